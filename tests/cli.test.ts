// The commands' own behaviour in process (issue 17): `import --out` writes a whole file or none,
// messages name what the user actually used (flags and variables, never stack config), and an API
// that never answers is given up on within the commands' own bounds.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildCli, CLI_REQUEST_TIMEOUT_MS, CLI_RETRY_BUDGET_MS } from "../cli/main";
import { type Emulator, startEmulator } from "../emulator";
import { API_KEY, expectNoSecrets } from "./support/fixtures";

let emulator: Emulator;
let dir: string;
beforeAll(async () => {
  emulator = await startEmulator({ apiKeys: [API_KEY] });
  dir = mkdtempSync(join(tmpdir(), "cli-test-"));
});
afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  emulator.clearFaults();
  for (const [account, list] of emulator.accounts()) for (const i of list) emulator.remove(i.integration_id, account);
});

async function run(args: string[], env: Record<string, string> = { SENDGRID_API_KEY: API_KEY }) {
  let stdout = "";
  let stderr = "";
  let error: Error | undefined;
  const cli = buildCli({
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
    env: { SENDGRID_API_BASE_URL: emulator.url, ...env },
    stdin: () => "",
    stdinIsTTY: () => false,
    exit: () => undefined,
  });
  try {
    await cli.parseAsync(["node", "cli", ...args]);
  } catch (e) {
    error = e as Error;
  }
  for (const text of [stdout, stderr, error?.message]) expectNoSecrets(text);
  return { stdout, stderr, error };
}

const seed = (label: string) =>
  emulator.seed({
    label,
    destination: "Segment",
    filters: { email_events: ["open"] },
    properties: { write_key: "wk_cli_test_1", destination_region: "US" },
  });

describe("import --out", () => {
  it("writes the program to the file, and says so on stderr", async () => {
    const live = seed("Prod");
    const file = join(dir, "index.ts");
    const { stdout, stderr, error } = await run(["import", "--out", file]);
    expect(error).toBeUndefined();
    expect(stdout).toBe("");
    expect(readFileSync(file, "utf8")).toContain(`importId: "${live.integration_id}"`);
    expect(stderr).toContain(`wrote 1 declaration to ${file}`);
  });

  it("a failed import leaves an existing file as it was, and no partial file behind", async () => {
    const file = join(dir, "keep.ts");
    writeFileSync(file, "// my program\n");
    emulator.inject({ kind: "status", status: 401, method: "GET" });
    const { error } = await run(["import", "--out", file]);
    expect(error?.message).toContain("HTTP 401");
    expect(readFileSync(file, "utf8")).toBe("// my program\n");
    expect(readdirSync(dir).filter((f) => f.includes("partial"))).toEqual([]);
  });

  it("a folder that does not exist: one line naming --out, nothing written", async () => {
    const file = join(dir, "missing", "index.ts");
    const { error } = await run(["import", "--out", file]);
    expect(error?.message).toBe(`--out ${file}: cannot be written (ENOENT)`);
    expect(existsSync(join(dir, "missing"))).toBe(false);
  });
});

describe("messages name what the commands read", () => {
  it("a retry budget spent names --retry-budget-ms, not stack config", async () => {
    emulator.inject({ kind: "status", status: 503, method: "GET", times: 100 });
    const { error } = await run(["import", "--retry-budget-ms", "300"]);
    expect(error?.message).toMatch(/the retry budget \(--retry-budget-ms\) is spent\)$/);
    expect(error?.message).not.toContain("sendgrid:");
  });

  it("an account with no variables names its variables, never `pulumi config set`", async () => {
    const { error } = await run(["import", "--account", "eu-brand"]);
    expect(error?.message).toBe(
      'no API key for account "eu-brand": set SENDGRID_ACCOUNT_EU_BRAND_API_KEY ' +
        "(and SENDGRID_ACCOUNT_EU_BRAND_REGION or SENDGRID_ACCOUNT_EU_BRAND_API_BASE_URL as needed)",
    );
  });

  it("no default key names SENDGRID_API_KEY", async () => {
    expect((await run(["import"], {})).error?.message).toBe("no API key: set SENDGRID_API_KEY");
  });

  it("a base URL without a scheme is described, never quoted (it could be a key pasted in the wrong place)", async () => {
    const { error } = await run(["import"], { SENDGRID_API_KEY: API_KEY, SENDGRID_API_BASE_URL: "localhost:8787" });
    expect(error?.message).toBe(
      "Invalid SENDGRID_API_BASE_URL: not an http(s) URL; use https://<host>, or http:// only for a loopback address " +
        "(e.g. http://127.0.0.1:8787 for the emulator)",
    );
  });
});

describe("an API that accepts connections and never answers", () => {
  it(`is given up on per attempt after ${CLI_REQUEST_TIMEOUT_MS} ms, within a ${CLI_RETRY_BUDGET_MS} ms budget`, async () => {
    expect(CLI_REQUEST_TIMEOUT_MS).toBe(5_000);
    expect(CLI_RETRY_BUDGET_MS).toBe(10_000);
    emulator.inject({ kind: "hang", method: "GET" });
    const { error } = await run(["import", "--retry-budget-ms", "0"]);
    expect(error?.message).toContain("Timeout awaiting 'request' for 5000ms");
  });
});
