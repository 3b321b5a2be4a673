// `npm start` / `npm run destroy` (scripts/local-stack.mjs): the orchestration around the real
// Pulumi CLI, driven with a stand-in `pulumi` that records every invocation and its environment.
// The emulator it starts is real, and so is what it keeps between runs.
import { spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { REPO } from "./support/programs";

interface Invocation {
  args: string[];
  self: string;
  cwd: string;
  env: Record<string, string | null>;
  liveBefore?: number;
}

const PINNED = JSON.parse(readFileSync(join(REPO, "node_modules/pulumi/package.json"), "utf8")).version as string;
const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const standIn = (bin: string) => {
  mkdirSync(bin, { recursive: true });
  copyFileSync(join(__dirname, "support", "pulumi-standin.cjs"), join(bin, "pulumi"));
  chmodSync(join(bin, "pulumi"), 0o755);
  return join(bin, "pulumi");
};

/** A home with a stand-in `pulumi` for PATH, and an empty PULUMI_HOME (no cached CLI). */
function setup() {
  const dir = mkdtempSync(join(tmpdir(), "local-stack-"));
  made.push(dir);
  const bin = join(dir, "bin");
  standIn(bin);
  const pulumiHome = join(dir, "pulumi-home");
  return { dir, bin, pulumiHome, log: join(dir, "invocations.jsonl"), local: join(dir, "local") };
}

async function run(
  mode: "up" | "destroy",
  s: ReturnType<typeof setup>,
  extra: Record<string, string> = {},
  withPulumi = true,
) {
  const child = spawn(process.execPath, [join(REPO, "scripts/local-stack.mjs"), mode], {
    cwd: REPO,
    env: {
      PATH: [...(withPulumi ? [s.bin] : []), dirname(process.execPath), "/usr/bin", "/bin"].join(":"),
      HOME: s.dir,
      STANDIN_LOG: s.log,
      LOCAL_STACK_DIR: s.local,
      PULUMI_HOME: s.pulumiHome,
      LOCAL_STACK_DOWNLOAD: "0", // a test never downloads a CLI
      PULUMI_CONFIG_PASSPHRASE_FILE: "/should/be/dropped",
      ...extra,
    },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const status = await new Promise<number | null>((resolve) => child.once("close", resolve));
  const invocations: Invocation[] = existsSync(s.log)
    ? readFileSync(s.log, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
    : [];
  const url = /emulator on (http:\/\/\S+);/.exec(stderr)?.[1];
  return { status, stdout, stderr, invocations, url };
}

const stopped = async (url: string | undefined) => {
  expect(url).toBeDefined();
  await expect(fetch(`${url}/v3/marketing/integrations`)).rejects.toThrow();
};

describe("npm start", () => {
  it("selects or creates the emulator stack, runs pulumi up --yes against a local backend and the emulator, prints the ids, stops the emulator", async () => {
    const s = setup();
    const first = await run("up", s);
    expect(first.status).toBe(0);
    expect(first.invocations.map((i) => i.args)).toEqual([
      ["stack", "select", "emulator", "--create"],
      ["up", "--yes", "--stack", "emulator"],
      ["stack", "output", "integrationIds", "--json", "--stack", "emulator"],
    ]);
    for (const i of first.invocations) {
      expect(i.cwd).toBe(REPO);
      expect(i.env).toEqual({
        PULUMI_BACKEND_URL: `file://${join(s.local, "backend")}`,
        PULUMI_CONFIG_PASSPHRASE: "emulator-demo",
        PULUMI_CONFIG_PASSPHRASE_FILE: null,
        SENDGRID_API_BASE_URL: first.url,
      });
    }
    expect(first.invocations[1]!.liveBefore).toBe(0);
    const id = JSON.parse(readFileSync(join(s.local, "emulator-state.json"), "utf8")).accounts[""][0].integration_id;
    expect(first.stdout).toContain(
      `Integration ids (live in the emulator, kept across runs):\n{\n  "integration-0": "${id}"\n}`,
    );
    await stopped(first.url);

    // A second run starts a new emulator on a new port that still has the first run's integration.
    const second = await run("up", s);
    expect(second.status).toBe(0);
    expect(second.invocations.at(-2)!.liveBefore).toBe(1);
    expect(second.stdout).toContain(`"integration-0": "${id}"`);
    await stopped(second.url);
  });

  it("npm run destroy tears the stack down the same way", async () => {
    const s = setup();
    const { status, invocations, stdout, url } = await run("destroy", s);
    expect(status).toBe(0);
    expect(invocations.map((i) => i.args)).toEqual([
      ["stack", "select", "emulator", "--create"],
      ["destroy", "--yes", "--stack", "emulator"],
    ]);
    expect(stdout).toContain("Destroyed");
    await stopped(url);
  });

  it("a failing pulumi up fails the command with its exit code, and the emulator is still stopped", async () => {
    const s = setup();
    const { status, invocations, url } = await run("up", s, { STANDIN_FAIL: "up" });
    expect(status).toBe(3);
    expect(invocations.map((i) => i.args[0])).toEqual(["stack", "up"]);
    await stopped(url);
  });

  it("runs the pinned CLI (devDependency `pulumi`) through its own launcher and cache, with no pulumi on PATH", async () => {
    const s = setup();
    const cached = standIn(join(s.pulumiHome, "versions", PINNED, "bin"));
    const { status, invocations, url } = await run("up", s, {}, false);
    expect(status).toBe(0);
    expect(invocations.map((i) => i.args[0])).toEqual(["stack", "up", "stack"]);
    for (const i of invocations) expect(i.self).toBe(cached);
    await stopped(url);
  });

  it("prefers the pinned CLI over a pulumi on PATH", async () => {
    const s = setup();
    const cached = standIn(join(s.pulumiHome, "versions", PINNED, "bin"));
    const { invocations, url } = await run("up", s);
    expect(invocations[0]!.self).toBe(cached);
    await stopped(url);
  });

  it("uses a pulumi on PATH where the pinned one cannot be had", async () => {
    const s = setup();
    const { status, invocations, url } = await run("up", s);
    expect(status).toBe(0);
    expect(invocations[0]!.self).toBe(join(s.bin, "pulumi"));
    await stopped(url);
  });

  it("with neither, says what is missing and how to install the CLI, and exits 1", async () => {
    const s = setup();
    const { status, stderr, invocations } = await run("up", s, {}, false);
    expect(status).toBe(1);
    expect(stderr).toBe(
      "npm start needs the Pulumi CLI (3.139 or newer), and none could be had:\n" +
        `  - the pinned Pulumi CLI ${PINNED} is not in ${join(s.pulumiHome, "versions", PINNED)}, and LOCAL_STACK_DOWNLOAD=0\n` +
        "  - there is no `pulumi` on PATH\n" +
        "Install it, then run this again:\n" +
        "  curl -fsSL https://get.pulumi.com | sh          # Linux, macOS\n" +
        "  brew install pulumi/tap/pulumi                  # macOS with Homebrew\n" +
        "  choco install pulumi                            # Windows\n" +
        "  (all options: https://www.pulumi.com/docs/iac/download-install/)\n",
    );
    expect(invocations).toEqual([]);
  });

  it("a CLI older than 3.139 is refused before anything runs", async () => {
    const s = setup();
    const { status, stderr, invocations } = await run("up", s, { STANDIN_VERSION: "v3.138.2" });
    expect(status).toBe(1);
    expect(stderr).toContain(
      `npm start needs the Pulumi CLI 3.139 or newer (dynamic providers get stack config from 3.139 on); pulumi on PATH (${join(s.bin, "pulumi")}) is 3.138.2.`,
    );
    expect(invocations).toEqual([]);
  });
});
