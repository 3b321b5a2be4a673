// `audit`: state (as `pulumi stack export` writes it) against what is live, per account and
// subuser, with every finding class, encrypted and plaintext secrets, two accounts on two hosts,
// and the exit codes a pipeline relies on. Run in-process through the real command parser, and
// once as the installed bin reading standard input.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli } from "../cli/main";
import { type Emulator, startEmulator } from "../emulator";
import { SEGMENT_INTEGRATION_TYPE } from "../provider/segmentIntegration";
import { API_KEY, expectNoSecrets, WRITE_KEY, WRITE_KEY_2 } from "./support/fixtures";
import { REPO } from "./support/programs";

const EU_KEY = "SG.eu-account-DO-NOT-LEAK-77aa";
let global: Emulator;
let eu: Emulator;

beforeAll(async () => {
  global = await startEmulator({ apiKeys: [API_KEY] });
  eu = await startEmulator({ apiKeys: [EU_KEY] });
});
afterAll(async () => {
  await global.close();
  await eu.close();
});

const env = () => ({
  SENDGRID_API_KEY: API_KEY,
  SENDGRID_API_BASE_URL: global.url,
  SENDGRID_ACCOUNT_EU_BRAND_API_KEY: EU_KEY,
  SENDGRID_ACCOUNT_EU_BRAND_API_BASE_URL: eu.url,
});

const SECRET = "4dabf18193072939515e22adb298388d";
const encrypted = { [SECRET]: "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:AAAA:ZZZZ" };
const plaintext = (value: unknown) => ({
  [SECRET]: "1b47061264138c4ac30d75fd1eb44270",
  plaintext: JSON.stringify(value),
});

interface Declared {
  name: string;
  id?: string;
  label: string;
  events: string[];
  account?: string;
  onBehalfOf?: string;
  /** Secret properties as the export holds them: encrypted unless given in plaintext. */
  properties?: unknown;
}

const urn = (name: string) => `urn:pulumi:prod::sendgrid-integrations::${SEGMENT_INTEGRATION_TYPE}::${name}`;
const props = (d: Declared) => ({
  __provider: "exports.handler = __f0;",
  destination: "Segment",
  filters: { emailEvents: d.events },
  label: d.label,
  properties: d.properties ?? encrypted,
  ...(d.account ? { account: d.account } : {}),
  ...(d.onBehalfOf ? { onBehalfOf: d.onBehalfOf } : {}),
});

/** A stack export in the CLI's format (apitype UntypedDeployment, version 3). */
function stackExport(managed: Declared[], pending: Declared[] = [], otherPending: [string, string][] = []) {
  return JSON.stringify({
    version: 3,
    deployment: {
      manifest: { time: "2026-11-26T00:00:00Z", magic: "x", version: "v3.210.0" },
      secrets_providers: { type: "passphrase", state: { salt: "v1:AAAA" } },
      resources: [
        {
          urn: "urn:pulumi:prod::sendgrid-integrations::pulumi:pulumi:Stack::x",
          custom: false,
          type: "pulumi:pulumi:Stack",
        },
        ...managed.map((d) => ({
          urn: urn(d.name),
          custom: true,
          id: d.id,
          type: SEGMENT_INTEGRATION_TYPE,
          inputs: props(d),
          outputs: { ...props(d), integrationId: d.id, userId: "1" },
          additionalSecretOutputs: ["properties"],
        })),
      ],
      pending_operations: [
        ...pending.map((d) => ({
          resource: { urn: urn(d.name), custom: true, type: SEGMENT_INTEGRATION_TYPE, inputs: props(d) },
          type: "creating",
        })),
        ...otherPending.map(([name, type]) => ({ resource: { urn: urn(name), type: SEGMENT_INTEGRATION_TYPE }, type })),
      ],
    },
  });
}

function seed(emulator: Emulator, label: string, events: string[], writeKey = WRITE_KEY, account = "") {
  return emulator.seed(
    {
      label,
      destination: "Segment",
      filters: { email_events: events },
      properties: { write_key: writeKey, destination_region: "US" },
    },
    account,
  ).integration_id;
}

async function audit(state: string, ...args: string[]) {
  let stdout = "";
  let stderr = "";
  let code = 0;
  const cli = buildCli({
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
    env: env(),
    stdin: () => state,
    exit: (c) => {
      code = c;
    },
  });
  await cli.parseAsync(["node", "cli", "audit", ...args]);
  for (const text of [stdout, stderr]) {
    expectNoSecrets(text);
    expect(text).not.toContain(EU_KEY);
  }
  return { stdout, stderr, code, json: args.includes("--json") ? JSON.parse(stdout) : undefined };
}

describe("audit", () => {
  it("clean: every managed integration in sync, exit 0", async () => {
    const a = seed(global, "A", ["open"]);
    const b = seed(eu, "B", ["click"], WRITE_KEY_2, "sub");
    const state = stackExport([
      { name: "a", id: a, label: "A", events: ["open"] },
      { name: "b", id: b, label: "B", events: ["click"], account: "eu-brand", onBehalfOf: "sub" },
    ]);
    const { stdout, stderr, code } = await audit(state);
    expect(code).toBe(0);
    expect(stdout).toContain(`in sync       a (${a})`);
    expect(stdout).toContain(`account "eu-brand", subuser "sub":\n  in sync       b (${b})`);
    expect(stdout).toMatch(/Clean: state and SendGrid agree\.\n$/);
    expect(stderr).toContain(`reading the integrations of account "eu-brand", subuser "sub" from ${eu.url}`);
    // Each account was read on its own host with its own key.
    expect(eu.requests.filter((r) => r.method === "GET").every((r) => r.status === 200)).toBe(true);
    global.accounts().clear();
    eu.accounts().clear();
  });

  it("reports drift by field (write key by name only), gone, and unmanaged with an importId declaration; exit 2", async () => {
    const drifted = seed(global, "Renamed in UI", ["open"], WRITE_KEY_2, "d");
    const unmanaged = seed(global, "Made in UI", ["bounce"], "wk_ui_secret_123", "d");
    const state = stackExport([
      {
        name: "drifted",
        id: drifted,
        label: "Original",
        events: ["open"],
        onBehalfOf: "d",
        properties: plaintext({ writeKey: WRITE_KEY, destinationRegion: "EU" }),
      },
      { name: "gone", id: "deleted-in-ui", label: "Gone", events: ["open"], onBehalfOf: "d" },
    ]);
    const { stdout, code, json } = await audit(state, "--json");
    expect(code).toBe(2);
    const [group] = json.groups;
    expect(group).toMatchObject({ onBehalfOf: "d", inSync: [], gone: [{ name: "gone", id: "deleted-in-ui" }] });
    expect(group.drifted).toEqual([
      {
        name: "drifted",
        id: drifted,
        fields: [
          { field: "label", state: "Original", live: "Renamed in UI" },
          { field: "properties.destinationRegion", state: "EU", live: "US" },
          { field: "properties.writeKey" },
        ],
      },
    ]);
    expect(group.unmanaged).toHaveLength(1);
    expect(group.unmanaged[0]).toMatchObject({ id: unmanaged, label: "Made in UI" });
    expect(group.unmanaged[0].declaration).toContain(`importId: "${unmanaged}"`);
    expect(group.unmanaged[0].declaration).toContain('onBehalfOf: "d"');
    expect(stdout).not.toContain("wk_ui_secret_123");
    expect(json.clean).toBe(false);

    const human = await audit(state);
    expect(human.stdout).toContain(
      `drifted       drifted (${drifted}): label "Original" → "Renamed in UI"; properties.destinationRegion "EU" → "US"; properties.writeKey.`,
    );
    expect(human.stdout).toContain("gone          gone (deleted-in-ui): in state, not in SendGrid.");
    expect(human.stdout).toContain(`unmanaged     "Made in UI" (${unmanaged}): live, in no state. Adopt it with:`);
    expect(human.stdout).toMatch(/Needs attention: see above\.\n$/);
  });

  it("with encrypted secrets, compares what it can and never reports the write key or region", async () => {
    const id = seed(global, "Enc", ["open"], "wk_live_other_99", "enc");
    const { json, code } = await audit(
      stackExport([{ name: "enc", id, label: "Enc", events: ["open"], onBehalfOf: "enc" }]),
      "--json",
    );
    expect(code).toBe(0);
    expect(json.groups[0].inSync).toEqual([{ name: "enc", id }]);
  });

  it.each([
    [0, 'nothing was created in SendGrid; `pulumi up --stack prod` creates "pend"'],
    [
      1,
      'add `importId: "<ID0>"` to the declaration of "pend", then `pulumi up --stack prod`: it adopts that integration',
    ],
    [2, '2 live integrations match "pend" (<ID0>, <ID1>): keep one, delete the others in SendGrid'],
  ])("a pending create with %i live matches: the matches and the exact recovery steps", async (n, step) => {
    const account = `pending-${n}`;
    const ids = Array.from({ length: n }, () => seed(eu, "Pending", ["bounce", "delivered"], WRITE_KEY, account));
    seed(eu, "Pending", ["bounce"], WRITE_KEY, account); // different events: not a match, but unmanaged
    const state = stackExport(
      [],
      [{ name: "pend", label: "Pending", events: ["delivered", "bounce"], account: "eu-brand", onBehalfOf: account }],
    );
    const { json, stdout, code } = await audit(state, "--json");
    expect(code).toBe(2);
    const [group] = json.groups;
    expect(group).toMatchObject({ account: "eu-brand", onBehalfOf: account });
    expect(group.pendingCreates).toHaveLength(1);
    expect([...group.pendingCreates[0].matches].sort()).toEqual([...ids].sort());
    expect(group.pendingCreates[0].steps[0]).toBe(
      "pulumi refresh --clear-pending-creates --stack prod: drop the pending create from state (the CLI cannot import it for a dynamic resource)",
    );
    const expected = step
      .replace("<ID0>", group.pendingCreates[0].matches[0] ?? "")
      .replace("<ID1>", group.pendingCreates[0].matches[1] ?? "");
    expect(group.pendingCreates[0].steps[1]).toContain(expected);
    expect(group.unmanaged).toHaveLength(1); // the match is not also reported as unmanaged
    expect(stdout).not.toContain(WRITE_KEY);
  });

  it("reads the hand-written sample of the CLI's format (encrypted secrets, a pending create)", async () => {
    global.seed({
      integration_id: "5a1234",
      label: "Prod events",
      destination: "Segment",
      filters: { email_events: ["open", "click"] },
      properties: { write_key: "x1234567", destination_region: "US" },
    });
    const staging = seed(global, "Staging events", ["bounce", "delivered"], "x1234567", "staging");
    const sample = readFileSync(join(REPO, "tests/fixtures/pulumi/stack-export-sample.json"), "utf8");
    const { json, code } = await audit(sample, "--json");
    expect(code).toBe(2);
    expect(json.groups.find((g: { onBehalfOf?: string }) => !g.onBehalfOf).inSync).toEqual([
      { name: "prod-events", id: "5a1234" },
    ]);
    const pending = json.groups.find((g: { onBehalfOf?: string }) => g.onBehalfOf === "staging").pendingCreates[0];
    expect(pending).toMatchObject({ name: "staging-events", matches: [staging] });
  });

  it("other interrupted operations say to refresh; named accounts and subusers are checked too", async () => {
    const extra = seed(eu, "Extra", ["open"], WRITE_KEY, "named-sub");
    const { json, code } = await audit(
      stackExport([], [], [["upd", "updating"]]),
      "--json",
      "--account",
      "eu-brand",
      "--on-behalf-of",
      "named-sub",
    );
    expect(code).toBe(2);
    expect(json.otherPending).toEqual([
      {
        urn: urn("upd"),
        type: "updating",
        steps: ["an interrupted updating operation: run `pulumi refresh --stack prod`"],
      },
    ]);
    expect(json.groups).toHaveLength(1);
    expect(json.groups[0]).toMatchObject({ account: "eu-brand", onBehalfOf: "named-sub", unmanaged: [{ id: extra }] });
  });

  it("exit 1 when an account cannot be read, naming the variable to set; the rest is still reported", async () => {
    const state = stackExport([{ name: "x", id: "abc", label: "X", events: ["open"], account: "nowhere" }]);
    const { stdout, code } = await audit(state);
    expect(code).toBe(1);
    expect(stdout).toContain('account "nowhere", parent:\n  not checked: No SendGrid account "nowhere" is configured');
    expect(stdout).toContain("SENDGRID_ACCOUNT_NOWHERE_API_KEY");
  });

  it("refuses what is not a stack export", async () => {
    await expect(audit("not json")).rejects.toThrow("the state is not JSON: pass the output of `pulumi stack export`");
    await expect(audit('{"version":3}')).rejects.toThrow("no deployment.resources");
    await expect(audit('{"version":2,"deployment":{"resources":[]}}')).rejects.toThrow("version 2 is not supported");
  });

  it("runs as the installed bin, reading standard input (pulumi stack export | ... audit)", async () => {
    const id = seed(global, "Bin", ["open"], WRITE_KEY, "bin");
    const child = spawn(process.execPath, [join(REPO, "dist/cli/main.js"), "audit", "--json"], {
      env: { ...process.env, ...env() },
    });
    child.stdin.end(stackExport([{ name: "bin", id, label: "Bin", events: ["open"], onBehalfOf: "bin" }]));
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    const status = await new Promise<number | null>((resolve) => child.once("close", resolve));
    expect(status).toBe(0);
    expect(JSON.parse(stdout).groups[0].inSync).toEqual([{ name: "bin", id }]);
  });
});
