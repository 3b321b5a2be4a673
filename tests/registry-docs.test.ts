// Issue 24: the Pulumi Registry's two pages (docs/_index.md, docs/installation-configuration.md, what
// `pulumi package publish --readme --installation-configuration` takes) say only true things, as
// the README's tests do for the README: the front matter published packages use; one program per
// language in the Registry's chooser, each naming only what the plugin's schema has (the YAML one
// whole); every setting and environment variable the schema declares, and no other; every command
// with the plugin's name, version, tarball names and download URL as the build makes them; the
// checksum commands run against a SHA256SUMS the build's code writes; the platforms and runners
// those of the release workflow.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { accountEnvPrefix } from "../provider/config";
import { PACKAGE, RESOURCE_TOKEN } from "../provider/native/schema";
import { blocks, knownProperties, schema, sdkImports, sdkProperties, yamlMisfits } from "./docs/schema-check";
import { artifacts, REPO, VERSION } from "./platforms/engine";
import { projectErrors } from "./support/pulumi-project";

const INDEX = readFileSync(join(REPO, "docs/_index.md"), "utf8");
const INSTALL = readFileSync(join(REPO, "docs/installation-configuration.md"), "utf8");
const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
const NODE_MAJOR = Number(/\d+/.exec(pkg.engines.node)![0]);

/** The YAML front matter and the page after it. */
function page(text: string) {
  const m = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text);
  if (!m) throw new Error("no front matter");
  return { front: parse(m[1]!) as Record<string, string>, body: m[2]! };
}

/** Shell lines of ```sh blocks. */
const shellLines = (markdown: string) =>
  blocks(markdown, "sh")
    .flatMap((b) => b.split("\n").map((l) => l.trim()))
    .filter(Boolean);

describe("the Registry's front matter", () => {
  it("_index.md: the package's display name, a description and the package layout", () => {
    expect(page(INDEX).front).toEqual({ title: schema.displayName, meta_desc: expect.any(String), layout: "package" });
  });

  it("installation-configuration.md: '<name> Installation & Configuration' and the installation layout", () => {
    expect(page(INSTALL).front).toEqual({
      title: `${schema.displayName} Installation & Configuration`,
      meta_desc: expect.any(String),
      layout: "installation",
    });
  });

  it("descriptions short enough for a search result, in one sentence", () => {
    for (const text of [INDEX, INSTALL]) {
      const { meta_desc } = page(text).front;
      expect(meta_desc!.length).toBeLessThanOrEqual(160);
      expect(meta_desc).toMatch(/^[A-Z][^.]*\.$/);
    }
  });
});

describe("_index.md's example, one program per language", () => {
  const LANGS = { typescript: "ts", python: "python", go: "go", csharp: "csharp", yaml: "yaml" } as const;
  const chooser = /\{\{< chooser language "([a-z,]+)" >\}\}([\s\S]*?)\{\{< \/chooser >\}\}/.exec(INDEX);
  /** Each choosable's language and its one code block. */
  const choosables = [
    ...(chooser?.[2] ?? "").matchAll(
      /\{\{% choosable language (\w+) %\}\}\n\n```(\w+)\n([\s\S]*?)```\n\n\{\{% \/choosable %\}\}/g,
    ),
  ].map(([, lang, fence, code]) => ({ lang: lang!, fence: fence!, code: code! }));
  const code = (lang: keyof typeof LANGS) => choosables.find((c) => c.lang === lang)!.code;

  it("a chooser over TypeScript, Python, Go, C# and YAML, each choosable one block of its language", () => {
    expect(chooser?.[1]?.split(",")).toEqual(Object.keys(LANGS));
    expect(choosables.map((c) => c.lang)).toEqual(Object.keys(LANGS));
    for (const { lang, fence } of choosables) expect(fence).toBe(lang);
    // Nothing else inside the chooser: a block outside a choosable would not render.
    expect(chooser![2]!.match(/```/g)).toHaveLength(2 * choosables.length);
  });

  it("the SDK programs import the package names the schema gives each language", () => {
    for (const [lang, key] of [
      ["typescript", "ts"],
      ["python", "python"],
      ["go", "go"],
      ["csharp", "csharp"],
    ] as const) {
      expect(code(lang), lang).toContain(sdkImports[key]());
    }
  });

  it("and set only properties the schema has (as each generator names them)", () => {
    for (const [lang, key] of [
      ["typescript", "ts"],
      ["python", "python"],
      ["go", "go"],
      ["csharp", "csharp"],
    ] as const) {
      const used = sdkProperties[key](code(lang));
      expect(used.length, lang).toBeGreaterThanOrEqual(4);
      expect(
        used.filter((name) => !knownProperties.has(name)),
        lang,
      ).toEqual([]);
    }
  });

  it("the YAML program is a whole Pulumi.yaml under the CLI's rules, naming only what the schema has", () => {
    expect(projectErrors(code("yaml"))).toEqual([]);
    expect(yamlMisfits(parse(code("yaml")))).toEqual([]);
  });

  it("the check finds a program that names what the schema does not have", () => {
    const broken = parse(code("yaml"));
    broken.resources.prodEvents.properties.lable = "x";
    expect(yamlMisfits(broken)).toEqual(["prodEvents.lable: not in the schema"]);
    expect(
      sdkProperties.ts(code("typescript").replace("label:", "lable:")).filter((n) => !knownProperties.has(n)),
    ).toEqual(["lable"]);
  });

  it("the import command and the alias name the schema's tokens", async () => {
    expect(shellLines(INDEX)).toEqual([`pulumi import ${RESOURCE_TOKEN} prod-events <integration id>`]);
    expect(INDEX).toContain(`(\`${schema.resources[RESOURCE_TOKEN].aliases[0].type}\`)`);
    expect(INDEX).toContain(`pulumi:providers:${PACKAGE}`);
  });
});

describe("installation-configuration.md", () => {
  it("lists every setting the schema declares, with its environment variable, and no other", () => {
    const listed = [...INSTALL.matchAll(/^- `sendgrid-segment:(\w+)`(?: \(environment: `(\w+)`\))? - (.*)$/gm)].map(
      ([, name, env, text]) => ({ name, env, secret: text!.endsWith("a secret.") }),
    );
    expect(listed).toEqual(
      Object.entries<Record<string, any>>(schema.config.variables).map(([name, spec]) => ({
        name,
        env: spec.defaultInfo?.environment?.[0],
        secret: spec.secret === true,
      })),
    );
    expect(INSTALL).toContain(`\`${accountEnvPrefix("eu-brand")}API_KEY\``);
    // Every SENDGRID_ variable named is one the provider reads.
    const known = new Set([
      ...Object.values<Record<string, any>>(schema.config.variables).flatMap((v) => v.defaultInfo?.environment ?? []),
      `${accountEnvPrefix("eu-brand")}API_KEY`,
    ]);
    for (const [variable] of INSTALL.matchAll(/\bSENDGRID_[A-Z_]+[A-Z]\b/g))
      expect(known, variable).toContain(variable);
  });

  it("sets only settings the schema has, the secret ones with --secret", () => {
    const sets = [...INSTALL.matchAll(/pulumi config set( --secret)?(?:\s+--path)?\s+'?sendgrid-segment:(\w+)/g)];
    expect(sets.length).toBeGreaterThanOrEqual(3);
    for (const [line, secret, name] of sets) {
      expect(schema.config.variables, line).toHaveProperty(name!);
      expect(Boolean(secret), line).toBe(schema.config.variables[name!].secret === true);
    }
  });

  it("installs the plugin by its name and version, from a tarball the build names", async () => {
    const { tarballName } = await artifacts();
    const installs = shellLines(INSTALL).filter((l) => l.startsWith("pulumi plugin install"));
    expect(installs).toEqual([
      `pulumi plugin install resource ${PACKAGE} ${VERSION} --file ${tarballName(VERSION, "linux-amd64")}`,
    ]);
    expect(shellLines(INSTALL)).toContain(`pulumi package add ${PACKAGE}@${VERSION}`);
    expect(INSTALL).toContain(
      `pulumi plugin install resource ${PACKAGE} ${VERSION} --server github://api.github.com/<owner>`,
    );
    const { pluginDownloadURL } = await artifacts();
    const url = pluginDownloadURL({ repository: "https://github.com/acme/pulumi-sendgrid-segment" });
    expect(url?.replace("acme", "<owner>")).toBe("github://api.github.com/<owner>");
  });

  it("its platform table names every tarball the release has, the Node.js inside and the Node.js needed", async () => {
    const { TARGETS, tarballName, pinnedNodeVersion } = await artifacts();
    const rows = [...INSTALL.matchAll(/^\| [^|]+ \| `([^`]+)` \| ([^|]+) \| ([^|]+) \|$/gm)];
    expect(rows.map((r) => r[1]).sort()).toEqual(
      [...Object.keys(TARGETS), "universal"].map((t) => tarballName(VERSION, t)).sort(),
    );
    expect(INSTALL).toContain(`The executables embed Node.js\n${pinnedNodeVersion()}`);
    expect(rows.find((r) => r[1]!.endsWith("universal.tar.gz"))![2]!.trim()).toBe(
      `Node.js ${NODE_MAJOR} or newer on \`PATH\``,
    );
  });

  it("its tested column names the release workflow's runners", () => {
    const workflow = parse(readFileSync(join(REPO, ".github/workflows/release.yml"), "utf8"));
    const runners: string[] = workflow.jobs.test.strategy.matrix.runner;
    const named = [...INSTALL.matchAll(/\b(ubuntu-[\w.-]+|macos-[\w.-]+|windows-[\w.-]+) runner/g)].map((m) => m[1]!);
    expect(new Set(named)).toEqual(new Set(runners));
  });

  it("the checksum commands pass on a release folder's SHA256SUMS, and fail on a changed tarball", async () => {
    const { sha256sums, tarballName } = await artifacts();
    const dir = mkdtempSync(join(tmpdir(), "checksum-"));
    try {
      const mine = tarballName(VERSION, "linux-amd64");
      writeFileSync(join(dir, mine), "the tarball");
      writeFileSync(
        join(dir, "SHA256SUMS"),
        sha256sums([
          [mine, Buffer.from("the tarball")],
          [tarballName(VERSION, "windows-amd64"), Buffer.from("not downloaded")],
        ]),
      );
      const checks = shellLines(INSTALL)
        .filter((l) => /^(sha256sum|shasum)\b/.test(l))
        .map((l) => l.replace(/\s+#.*$/, ""));
      expect(checks).toHaveLength(2);
      for (const line of checks) {
        const run = spawnSync("sh", ["-c", line], { cwd: dir, encoding: "utf8" });
        expect({ line, status: run.status, stdout: run.stdout }).toEqual({ line, status: 0, stdout: `${mine}: OK\n` });
      }
      writeFileSync(join(dir, mine), "another tarball");
      for (const line of checks) expect(spawnSync("sh", ["-c", line], { cwd: dir }).status, line).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("both pages", () => {
  it("link only to files that exist", () => {
    for (const [file, text] of [
      ["docs/_index.md", INDEX],
      ["docs/installation-configuration.md", INSTALL],
    ] as const) {
      for (const [, target] of text.matchAll(/\]\((\.{1,2}\/[^)#\s]+)/g)) {
        expect(existsSync(join(REPO, dirname(file), target!)), `${file}: ${target}`).toBe(true);
      }
    }
  });
});
