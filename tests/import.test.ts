// "Already have integrations?": listSegmentIntegrations from a program, and the `import` command
// that writes a program adopting them — run for real, end to end, against the emulator.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderProgram } from "../cli/generate";
import { type Emulator, startEmulator } from "../emulator";
import { startProviderServer } from "./support/engine.cjs";
import { API_KEY, expectNoSecrets, WRITE_KEY, WRITE_KEY_2 } from "./support/fixtures";
import { linkedConsumer, REPO, runProgram } from "./support/programs";

let emulator: Emulator;
const UI_KEY_1 = "wk_ui_made_secret_1";
const UI_KEY_2 = "wk_ui_made_secret_2";

beforeAll(async () => {
  emulator = await startEmulator({ apiKeys: [API_KEY] });
  emulator.seed({
    label: "Prod events",
    destination: "Segment",
    filters: { email_events: ["open", "click"] },
    properties: { write_key: UI_KEY_1, destination_region: "US" },
  });
  emulator.seed(
    {
      label: "EU marketing",
      destination: "Segment",
      filters: { email_events: ["bounce"] },
      properties: { write_key: UI_KEY_2, destination_region: "EU" },
    },
    "marketing-eu",
  );
});
afterAll(() => emulator.close());

/** Runs the CLI in a child process (asynchronously: the emulator answers from this process). */
async function runImport(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [join(REPO, "dist/cli/main.js"), "import", ...args], {
    env: { ...process.env, SENDGRID_API_KEY: API_KEY, SENDGRID_API_BASE_URL: emulator.url, ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const status = await new Promise<number | null>((resolve) => child.once("close", resolve));
  const result = { status, stdout, stderr };
  for (const text of [result.stdout, result.stderr]) {
    expectNoSecrets(text);
    expect(text).not.toContain(UI_KEY_1);
    expect(text).not.toContain(UI_KEY_2);
  }
  return result;
}

describe("npx pulumi-sendgrid-segment import", () => {
  it("prints a program adopting every integration of the chosen accounts, and never a write key", async () => {
    const { status, stdout } = await runImport(["--with-parent", "--on-behalf-of", "marketing-eu"]);
    expect(status).toBe(0);
    const [parent] = emulator.integrations("");
    const [sub] = emulator.integrations("marketing-eu");
    expect(stdout).toContain(`importId: "${parent!.integration_id}"`);
    expect(stdout).toContain(`importId: "${sub!.integration_id}"`);
    expect(stdout).toContain('onBehalfOf: "marketing-eu"');
    expect(stdout).toContain(
      'pulumi config set --secret prodEventsWriteKey <write key of the Segment source for "Prod events">',
    );
    expect(stdout).toContain('filters: { emailEvents: ["click","open"] }');
  });

  it("reads only the parent account by default", async () => {
    const { stdout } = await runImport([]);
    expect(stdout).toContain("Prod events");
    expect(stdout).not.toContain("EU marketing");
  });

  it("has --help, and fails clearly without an API key or with an unknown flag", async () => {
    expect((await runImport(["--help"])).stdout).toContain(
      "The API key is read from SENDGRID_API_KEY (with --account <name>: SENDGRID_ACCOUNT_<NAME>_API_KEY).",
    );
    const noKey = await runImport([], { SENDGRID_API_KEY: "" });
    expect(noKey.status).toBe(1);
    // It names what this command reads, not the stack config it never looks at.
    expect(noKey.stderr).toBe("pulumi-sendgrid-segment: no API key: set SENDGRID_API_KEY\n");
    const noAccountKey = await runImport(["--account", "brand-b"]);
    expect(noAccountKey.stderr).toBe(
      'pulumi-sendgrid-segment: no API key for account "brand-b": set SENDGRID_ACCOUNT_BRAND_B_API_KEY ' +
        "(and SENDGRID_ACCOUNT_BRAND_B_REGION or SENDGRID_ACCOUNT_BRAND_B_API_BASE_URL as needed)\n",
    );
    const badFlag = await runImport(["--api-key", "x"]);
    expect(badFlag.status).not.toBe(0);
    expect(badFlag.stderr).toContain("unknown option '--api-key'");
  });

  it("names the flag or variable a bad setting came from", async () => {
    const badUrl = await runImport(["--api-base-url", "not a url"]);
    expect(badUrl.status).toBe(1);
    expect(badUrl.stderr).toContain("Invalid --api-base-url: not a URL (a string of 9 characters);");
    const fromEnv = await runImport([], { SENDGRID_API_BASE_URL: "http://example.com" });
    expect(fromEnv.stderr).toContain("Invalid SENDGRID_API_BASE_URL: plain http to a host that is not this machine");
    const badBudget = await runImport(["--retry-budget-ms", "-5"]);
    expect(badBudget.stderr).toContain(
      "Invalid --retry-budget-ms: expected whole milliseconds from 0 to 3600000, got a string of 2 characters",
    );
    const badAccount = await runImport(["--account", "no spaces"]);
    expect(badAccount.stderr).toContain("--account (a string of 9 characters): 1 to 64 letters");
  });

  it("against an unreachable API it says what it is doing and fails within seconds, not minutes", async () => {
    const started = Date.now();
    const { status, stderr } = await runImport(["--retry-budget-ms", "1500", "--api-base-url", "http://127.0.0.1:9"]);
    expect(status).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(stderr).toMatch(/^reading the integrations of the default account from http:\/\/127\.0\.0\.1:9 \.\.\.\n/);
    expect(stderr).toMatch(/request failed \(ECONNREFUSED\) \(gave up after \d+ attempts/);
  });

  it("--account reads a named account with its own key and host, and the program declares it", async () => {
    const other = await startEmulator({ apiKeys: ["SG.brand-b-key"] });
    try {
      other.seed({
        label: "Brand B",
        destination: "Segment",
        filters: { email_events: ["open"] },
        properties: { write_key: "wk_brand_b_1", destination_region: "US" },
      });
      const { status, stdout } = await runImport(["--account", "brand-b"], {
        SENDGRID_ACCOUNT_BRAND_B_API_KEY: "SG.brand-b-key",
        SENDGRID_ACCOUNT_BRAND_B_API_BASE_URL: other.url,
      });
      expect(status).toBe(0);
      expect(stdout).toContain('new SegmentIntegration("brand-b-brand-b", {');
      expect(stdout).toContain('  account: "brand-b",');
      expect(stdout).not.toContain("SG.brand-b-key");
    } finally {
      await other.close();
    }
  });

  it("the printed program adopts through the real engine path: GET and PATCH, never POST", async () => {
    const { stdout } = await runImport(["--with-parent", "--on-behalf-of", "marketing-eu"]);
    const consumer = linkedConsumer(join(REPO, "examples", "basic"));
    try {
      writeFileSync(join(consumer.dir, "index.ts"), stdout);
      const run = await runProgram(join(consumer.dir, "index.ts"), {
        project: "adopted",
        config: { "adopted:prodEventsWriteKey": WRITE_KEY, "adopted:marketingEuEuMarketingWriteKey": WRITE_KEY_2 },
        secretKeys: ["adopted:prodEventsWriteKey", "adopted:marketingEuEuMarketingWriteKey"],
      });
      expect(run.error).toBeUndefined();
      const declared = run.registered.filter((r) => r.type.endsWith(":SegmentIntegration"));
      expect(declared.map((r) => r.name)).toEqual(["prod-events", "marketing-eu-eu-marketing"]);

      const server = await startProviderServer({ programDir: consumer.dir });
      try {
        await server.configure({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url });
        emulator.requests.length = 0;
        for (const r of declared) {
          const news = { ...r.inputs, properties: r.inputs.properties.secret, __provider: r.provider };
          const checked = await server.check(r.name, {}, news);
          expect(checked.failures).toEqual([]);
          const created = await server.create(r.name, checked.inputs);
          expect(created.id).toBe(r.inputs.importId);
        }
        expect(emulator.requests.map((r) => r.method)).toEqual(["GET", "PATCH", "GET", "PATCH"]);
        expect(emulator.integrations("")[0]!.properties.write_key).toBe(WRITE_KEY);
        expect(emulator.integrations("marketing-eu")[0]!.properties.write_key).toBe(WRITE_KEY_2);
      } finally {
        await server.stop();
      }
    } finally {
      consumer.dispose();
    }
  });
});

describe("renderProgram", () => {
  it("makes unique resource names and config keys from labels", () => {
    const info = (label: string, id: string) => ({
      integrationId: id,
      userId: "1",
      label,
      destination: "Segment" as const,
      filters: { emailEvents: ["open" as const] },
      properties: { destinationRegion: "US" as const },
    });
    const program = renderProgram([info("Prod", "a"), info("Prod", "b"), info("", "c"), info("42 events", "d")]);
    for (const name of ['"prod"', '"prod-2"', '"integration"', '"integration-42-events"']) {
      expect(program).toContain(`new SegmentIntegration(${name}`);
    }
    expect(program).toContain('cfg.requireSecret("prod2WriteKey")');
  });

  it("says so when there is nothing to adopt", () => {
    expect(renderProgram([])).toContain("The account has no Segment integrations to adopt.");
  });
});

describe("listSegmentIntegrations", () => {
  it("lists an account's integrations from a program, with the provider's configuration rules", async () => {
    const consumer = linkedConsumer(join(REPO, "examples", "basic"));
    try {
      writeFileSync(
        join(consumer.dir, "index.ts"),
        [
          'import { listSegmentIntegrations, listSegmentIntegrationsOutput } from "pulumi-sendgrid-segment";',
          "export const parent = listSegmentIntegrations();",
          'export const eu = listSegmentIntegrationsOutput({ onBehalfOf: "marketing-eu" });',
        ].join("\n"),
      );
      const run = await runProgram(join(consumer.dir, "index.ts"), {
        project: "lister",
        config: { "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url },
        secretKeys: ["sendgrid:apiKey"],
      });
      expect(run.error).toBeUndefined();
      const [parent] = emulator.integrations("");
      expect(run.outputs!.parent).toEqual([
        {
          integrationId: parent!.integration_id,
          userId: parent!.user_id,
          label: parent!.label,
          destination: "Segment",
          filters: { emailEvents: [...parent!.filters.email_events].sort() },
          properties: { destinationRegion: parent!.properties.destination_region },
        },
      ]);
      expect(run.outputs!.eu).toEqual([expect.objectContaining({ label: "EU marketing", onBehalfOf: "marketing-eu" })]);
      expect(JSON.stringify(run.outputs)).not.toContain(UI_KEY_1);
    } finally {
      consumer.dispose();
    }
  });
});
