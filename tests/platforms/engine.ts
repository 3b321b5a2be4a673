// The plugin's artifacts as the Pulumi engine handles them (pulumi/pulumi at 1b59498):
//
// - `pulumi plugin install resource sendgrid-segment <v> --file <tarball>` unpacks the tarball into
//   the plugin folder `resource-sendgrid-segment-v<v>` with sdk/go/common/util/archive/archive.go's
//   `extractFile`: directories, regular files (created with the header's mode) and symlinks only,
//   nothing outside the folder. `installLikeEngine` does the same, and fails on anything else.
// - The engine picks the executable with plugins.go's `getPluginPath`/`getCandidateExtensions`:
//   `pulumi-resource-sendgrid-segment` plus `.exe`, then `.cmd`, on Windows, nothing elsewhere.
// - sdk/go/common/resource/plugin/plugin.go's `ExecPlugin` runs it directly (`exec.Command(bin,
//   args...)`, in the program's folder, the engine's address last), and `newPlugin` reads the port
//   from its first line of stdout (`parsePort` trims "\r\n").
//
// `drive` then makes the calls a deployment and an import make: GetPluginInfo, GetSchema,
// CheckConfig, Configure, create, update, refresh, an id-only read, Invoke and delete, against the
// emulator.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, normalize, sep } from "node:path";
import { expect } from "vitest";
import type { Emulator } from "../../emulator";
import { LIST_TOKEN, PACKAGE, RESOURCE_TOKEN } from "../../provider/native/schema";
import { reveal, secret } from "../../provider/native/secrets";
import { type ProviderServer, startPlugin } from "../support/engine.cjs";
import { SimEngine } from "../support/engine-sim";
import { API_KEY, expectNoSecretPart, WRITE_KEY } from "../support/fixtures";

export const REPO = join(__dirname, "..", "..");
/** The release scripts' module (ES module: loaded with import()). */
export const artifacts = () => import("../../scripts/release/artifacts.mjs");
export const VERSION = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version as string;
const req = createRequire(join(REPO, "package.json"));

/** Unpacks `tarball` into `<plugins>/resource-sendgrid-segment-v<version>` as `extractFile` does. */
export async function installLikeEngine(tarball: string, plugins: string): Promise<string> {
  const dir = join(plugins, `resource-${PACKAGE}-v${VERSION}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, { header, data }] of await (await artifacts()).untarGz(readFileSync(tarball))) {
    const path = normalize(join(dir, name));
    if (path !== dir && !path.startsWith(dir + sep)) throw new Error(`${name} escapes the plugin folder`);
    if (header.type === "directory") mkdirSync(path, { recursive: true });
    else if (header.type === "file") writeFileSync(path, data, { mode: header.mode });
    else throw new Error(`${name}: the engine unpacks no ${header.type} entries`);
  }
  return dir;
}

/** The file the engine runs in an installed plugin folder, for a Windows engine or another. */
export const executableIn = (dir: string, windows: boolean, ext: "" | ".exe" | ".cmd" = windows ? ".exe" : "") =>
  join(dir, `pulumi-resource-${PACKAGE}${ext}`);

const args = (extra: Record<string, unknown> = {}) => ({
  label: "From the executable",
  filters: { emailEvents: ["delivered", "open"] },
  properties: secret({ writeKey: WRITE_KEY, destinationRegion: "US" }),
  ...extra,
});

/**
 * Starts a plugin as the engine does (`command ...args`, the engine's address last, in `cwd`, with
 * exactly `env`), drives a deployment and an import through it (its schema's pluginDownloadURL
 * being `downloadURL`), and stops it. `beforeStop` ends what the engine's tree kill would end
 * (a `.cmd`'s node.exe: cmdutil.KillChildren).
 */
export async function deploymentThrough(
  emulator: Emulator,
  start: { command: string; args: string[]; cwd: string; env: Record<string, string> },
  { downloadURL, beforeStop }: { downloadURL?: string; beforeStop?: (plugin: ProviderServer) => void } = {},
): Promise<ProviderServer> {
  const plugin = await startPlugin({ ...start, bareEnv: true, req, type: RESOURCE_TOKEN });
  try {
    await drive(plugin, emulator, downloadURL);
  } finally {
    beforeStop?.(plugin);
    await plugin.stop();
  }
  return plugin;
}

/** The engine's calls, the way a deployment and an import make them. */
export async function drive(plugin: ProviderServer, emulator: Emulator, downloadURL?: string) {
  expect(await plugin.getPluginInfo()).toEqual({ version: VERSION });
  const schema = await plugin.getSchema();
  expect(schema.name).toBe(PACKAGE);
  expect(schema.version).toBe(VERSION);
  expect(schema.pluginDownloadURL).toBe(downloadURL);
  expect(Object.keys(schema.resources)).toEqual([RESOURCE_TOKEN]);

  const config = { apiKey: secret(API_KEY), apiBaseUrl: emulator.url, requestTimeoutMs: "2000", version: VERSION };
  expect((await plugin.checkConfig({}, { ...config, region: "moon" })).failures.map((f) => f.property)).toEqual([
    "region",
  ]);
  expect((await plugin.checkConfig({}, config)).failures).toEqual([]);
  expect(await plugin.configureArgs(config)).toEqual({
    acceptSecrets: true,
    supportsPreview: true,
    acceptResources: false,
    acceptOutputs: false,
  });

  // Each command (`up`, `up`, `refresh`, `destroy`) is a deployment of its own, which registers a
  // resource once (step_generator.go generateURN): the plugin is configured anew for each.
  let engine = new SimEngine(plugin);
  const nextRun = async () => {
    await plugin.configureArgs(config);
    engine = engine.next(plugin);
  };
  expect(await engine.up("events", args())).toBe("create");
  const { id } = engine.state.get("events")!;
  expect(emulator.integrations().map((i) => i.integration_id)).toContain(id);
  await nextRun();
  expect(await engine.up("events", args({ label: "Renamed" }))).toBe("update");
  await nextRun();
  expect(await engine.refresh("events")).toBe("refreshed");

  const imported = await plugin.read("imported", id);
  expect(imported.id).toBe(id);
  expect(reveal(imported.inputs!).plain).toMatchObject({ label: "Renamed", properties: { writeKey: WRITE_KEY } });

  const listed = await plugin.invoke(LIST_TOKEN, {});
  expect((listed.return!.integrations as { integrationId: string }[]).map((i) => i.integrationId)).toContain(id);

  await nextRun();
  await engine.destroy("events");
  expect(emulator.integrations().map((i) => i.integration_id)).not.toContain(id);
  expectNoSecretPart(plugin.stderr);
}
