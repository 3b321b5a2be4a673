// `npm start` / `npm run destroy` (scripts/local-stack.mjs): the orchestration around the real
// Pulumi CLI, driven with a stand-in `pulumi` that records every invocation and its environment.
// The emulator it starts is real, and so is what it keeps between runs.
import { type ChildProcess, spawn } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { REPO } from "./support/programs";

interface Invocation {
  args: string[];
  self: string;
  cwd: string;
  env: Record<string, string | null>;
  /** Every SENDGRID_* variable the CLI got. */
  sendgrid: Record<string, string>;
  /** Running processes whose command line held the API key. */
  keyOnCommandLines: string[];
  liveBefore?: number;
  drained?: string;
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
  /** Called with the script once its stderr says `when`: e.g. to press Ctrl-C. */
  on?: { when: string; act: (child: ChildProcess) => void },
) {
  const child = spawn(process.execPath, [join(REPO, "scripts/local-stack.mjs"), mode], {
    cwd: REPO,
    // A process group of its own, as a terminal's foreground job: Ctrl-C is a SIGINT to the group.
    detached: true,
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
  child.stderr.on("data", (d) => {
    stderr += d;
    if (on && stderr.includes(on.when)) {
      on.act(child);
      on = undefined;
    }
  });
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
    const key = first.invocations[0]!.sendgrid.SENDGRID_API_KEY;
    expect(key).toMatch(/^SG\.emulator-[A-Za-z0-9_-]{24}$/);
    for (const i of first.invocations) {
      expect(i.cwd).toBe(REPO);
      expect(i.env).toEqual({
        PULUMI_BACKEND_URL: `file://${join(s.local, "backend")}`,
        PULUMI_CONFIG_PASSPHRASE: "emulator-demo",
        PULUMI_CONFIG_PASSPHRASE_FILE: null,
        PULUMI_ACCESS_TOKEN: null,
      });
      // The key made for this run, through the environment; on no process's command line.
      expect(i.sendgrid).toEqual({ SENDGRID_API_KEY: key, SENDGRID_API_BASE_URL: first.url });
      expect(i.keyOnCommandLines).toEqual([]);
    }
    // Its files are the user's alone.
    expect(statSync(s.local).mode & 0o777).toBe(0o700);
    expect(statSync(join(s.local, "emulator-state.json")).mode & 0o777).toBe(0o600);
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
    expect(second.invocations.at(-1)!.sendgrid.SENDGRID_API_KEY).not.toBe(key); // a new key each run
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

  /** A copy of the project whose demo stack file is changed by `edit`, for LOCAL_STACK_PROJECT. */
  function project(s: ReturnType<typeof setup>, edit: (stack: string) => string, projectFile = (p: string) => p) {
    const dir = join(s.dir, "project");
    mkdirSync(dir);
    writeFileSync(join(dir, "Pulumi.yaml"), projectFile(readFileSync(join(REPO, "Pulumi.yaml"), "utf8")));
    writeFileSync(join(dir, "Pulumi.emulator.yaml"), edit(readFileSync(join(REPO, "Pulumi.emulator.yaml"), "utf8")));
    return dir;
  }
  const withAccount = (stack: string) =>
    stack.replace("      onBehalfOf: marketing-eu", "      onBehalfOf: marketing-eu\n      account: prod");

  it("touches only the emulator: no SENDGRID_* from the shell reaches the CLI, and every account points at the emulator", async () => {
    const s = setup();
    const dir = project(s, withAccount);
    const { status, invocations, url } = await run("up", s, {
      LOCAL_STACK_PROJECT: dir,
      SENDGRID_API_KEY: "SG.users-real-key",
      SENDGRID_REGION: "eu",
      SENDGRID_API_BASE_URL: "https://api.sendgrid.com",
      SENDGRID_ACCOUNT_PROD_API_KEY: "SG.real-prod-key",
      SENDGRID_ACCOUNT_PROD_API_BASE_URL: "https://api.sendgrid.com",
      SENDGRID_ACCOUNT_OTHER_API_KEY: "SG.real-other-key",
      PULUMI_ACCESS_TOKEN: "pul-users-token",
    });
    expect(status).toBe(0);
    const key = invocations[0]!.sendgrid.SENDGRID_API_KEY;
    for (const i of invocations) {
      expect(i.cwd).toBe(dir);
      expect(i.env.PULUMI_ACCESS_TOKEN).toBeNull();
      expect(i.sendgrid).toEqual({
        SENDGRID_API_KEY: key,
        SENDGRID_API_BASE_URL: url,
        SENDGRID_ACCOUNT_PROD_API_KEY: key,
        SENDGRID_ACCOUNT_PROD_API_BASE_URL: url,
      });
    }
    await stopped(url);
  });

  it.each([
    [
      "sendgrid:apiBaseUrl",
      (stack: string) => stack.replace("config:\n", "config:\n  sendgrid:apiBaseUrl: https://api.sendgrid.com\n"),
    ],
    ["sendgrid:apiKey", (stack: string) => stack.replace("config:\n", "config:\n  sendgrid:apiKey: SG.real\n")],
    ["sendgrid:region", (stack: string) => stack.replace("config:\n", "config:\n  sendgrid:region: eu\n")],
    [
      "sendgrid:accounts",
      (stack: string) =>
        stack.replace("config:\n", "config:\n  sendgrid:accounts:\n    prod:\n      apiKey: SG.real\n"),
    ],
    [
      "sendgrid-segment:apiBaseUrl",
      (stack: string) => stack.replace("config:\n", "config:\n  sendgrid-segment:apiBaseUrl: https://x\n"),
    ],
  ])(
    "refuses a demo stack that sets %s (stack config would win over the emulator's address), before anything runs",
    async (key, edit) => {
      const s = setup();
      const dir = project(s, edit);
      const { status, stderr, invocations } = await run("up", s, { LOCAL_STACK_PROJECT: dir });
      expect(status).toBe(1);
      expect(stderr).toBe(
        "npm start runs only against the emulator, and gives every account its address and key itself; stack config " +
          `would win over that:\n  - Pulumi.emulator.yaml sets ${key}\n` +
          "Remove these settings (name accounts only in the integrations' `account`), then run this again.\n",
      );
      expect(invocations).toEqual([]);
    },
  );

  it("refuses a project file that sets an account's host for every stack", async () => {
    const s = setup();
    const dir = project(
      s,
      (stack) => stack,
      (file) => `${file}  sendgrid:apiBaseUrl:\n    value: https://api.sendgrid.com\n`,
    );
    const { status, stderr } = await run("up", s, { LOCAL_STACK_PROJECT: dir });
    expect(status).toBe(1);
    expect(stderr).toContain("  - Pulumi.yaml sets sendgrid:apiBaseUrl\n");
  });

  it("Ctrl-C: the emulator outlives the CLI's drain, then stops; the command exits 130", async () => {
    const s = setup();
    const { status, invocations, url, stderr } = await run("up", s, { STANDIN_DRAIN: "1" }, true, {
      when: "waiting for SIGINT",
      // The terminal's Ctrl-C: SIGINT to the foreground process group (the script and the CLI).
      act: (child) => process.kill(-child.pid!, "SIGINT"),
    });
    expect(
      invocations.map((i) => i.args[0]),
      stderr,
    ).toEqual(["stack", "up"]);
    expect(invocations[1]!.drained).toBe("answered");
    expect(status).toBe(130);
    expect(stderr).toContain("pulumi up interrupted (SIGINT)");
    await stopped(url);
  });

  it("SIGTERM to the script alone is passed on to the CLI, which finishes before the emulator stops", async () => {
    const s = setup();
    const { status, invocations, url, stderr } = await run("up", s, { STANDIN_DRAIN: "1" }, true, {
      when: "waiting for SIGINT",
      act: (child) => process.kill(child.pid!, "SIGTERM"),
    });
    expect(invocations[1]!.drained).toBe("answered");
    expect(status).toBe(130);
    expect(stderr).toContain("pulumi up interrupted (SIGTERM)");
    await stopped(url);
  });
});
