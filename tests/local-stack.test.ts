// `npm start` / `npm run destroy` (scripts/local-stack.mjs): the orchestration around the real
// Pulumi CLI, driven with a stand-in `pulumi` that records every invocation and its environment.
// The emulator it starts is real, and so is what it keeps between runs.
import { spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "./support/programs";

interface Invocation {
  args: string[];
  cwd: string;
  env: Record<string, string | null>;
  liveBefore?: number;
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "local-stack-"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  copyFileSync(join(__dirname, "support", "pulumi-standin.cjs"), join(bin, "pulumi"));
  chmodSync(join(bin, "pulumi"), 0o755);
  return { dir, bin, log: join(dir, "invocations.jsonl"), local: join(dir, "local") };
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

  it("without pulumi on PATH, says how to install the CLI and exits non-zero", async () => {
    const s = setup();
    const { status, stderr, invocations } = await run("up", s, {}, false);
    expect(status).toBe(1);
    expect(stderr).toContain("npm start needs the Pulumi CLI (3.139 or newer) on PATH");
    expect(stderr).toContain("curl -fsSL https://get.pulumi.com | sh");
    expect(invocations).toEqual([]);
  });
});
