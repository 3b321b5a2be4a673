// `audit`: state (as `pulumi stack export` writes it) against what is live, per account and
// subuser, with every finding class, encrypted and plaintext secrets, two accounts on two hosts,
// and the exit codes a pipeline relies on. Run in-process through the real command parser, and
// once as the installed bin reading standard input.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type AuditReport,
  auditPlace,
  type Holdings,
  type LiveIntegration,
  labelOf,
  needsAttention,
  otherPendingSteps,
  parseStackExport,
  placeOf,
  placesOf,
  renderAudit,
  type StackState,
  StateFormatError,
  type StateIntegration,
  shellArg,
  stackIdOf,
  unassignedProvider,
  where,
} from "../cli/audit";
import { buildCli } from "../cli/main";
import { type Emulator, startEmulator } from "../emulator";
import { SEGMENT_INTEGRATION_TYPE } from "../provider/dynamic/segmentIntegration";
import { PACKAGE, RESOURCE_TOKEN } from "../provider/native/schema";
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
/** Each test starts from empty accounts: the default account is always read, so leftovers would show. */
beforeEach(() => {
  for (const emulator of [global, eu]) {
    for (const [account, list] of emulator.accounts()) for (const i of list) emulator.remove(i.integration_id, account);
  }
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
  /** The plugin's explicit provider that manages it, by name (native door only). */
  provider?: string;
}

type DoorName = "dynamic" | "native";
interface Where {
  door?: DoorName;
  stack?: string;
  project?: string;
  /** With one, the export is a Pulumi Cloud stack's: its secrets provider is the service's. */
  organization?: string;
  version?: number;
}
const TYPES: Record<DoorName, string> = { dynamic: SEGMENT_INTEGRATION_TYPE, native: RESOURCE_TOKEN };
const PROJECT = "sendgrid-integrations";
const PROVIDER_ID = "3c9a1b2e-0000-4000-8000-000000000001";
/** The labels of the stacks these exports are: project and stack (the passphrase provider names no organization). */
const PROD = `${PROJECT}/prod`;
const STAGING = `${PROJECT}/staging`;
const at = (w: Where = {}) => ({ door: "dynamic" as DoorName, stack: "prod", project: PROJECT, ...w });

const urn = (name: string, w: Where = {}) => {
  const { door, stack, project } = at(w);
  return `urn:pulumi:${stack}::${project}::${TYPES[door]}::${name}`;
};
const providerUrn = (w: Where, name = "default_0_3_0") => {
  const { door, stack, project } = at(w);
  const type = door === "dynamic" ? "pulumi:providers:pulumi-nodejs" : `pulumi:providers:${PACKAGE}`;
  return `urn:pulumi:${stack}::${project}::${type}::${door === "dynamic" ? "default" : name}`;
};
/** Inputs as each door's state holds them: the dynamic provider's carry the serialized provider. */
const props = (d: Declared, door: DoorName = "dynamic") => ({
  ...(door === "dynamic" ? { __provider: "exports.handler = __f0;" } : {}),
  destination: "Segment",
  filters: { emailEvents: d.events },
  label: d.label,
  properties: d.properties ?? encrypted,
  ...(d.account ? { account: d.account } : {}),
  ...(d.onBehalfOf ? { onBehalfOf: d.onBehalfOf } : {}),
});

/**
 * A stack export shaped as `pulumi stack export` writes it (apitype UntypedDeployment, version 3;
 * JSON indented by four spaces, pkg/cmd/pulumi/stack/stack_export.go): the stack resource, the
 * door's default provider (and any explicit one), each integration with its parent and provider
 * reference, and the secrets provider's state (Pulumi Cloud's names the organization).
 */
function stackExport(
  managed: Declared[],
  pending: Declared[] = [],
  otherPending: [string, string][] = [],
  w: Where = {},
) {
  const { door, stack, project, organization, version } = at(w);
  const root = `urn:pulumi:${stack}::${project}::pulumi:pulumi:Stack::${project}-${stack}`;
  const providerNames = [...new Set([...managed, ...pending].flatMap((d) => (d.provider ? [d.provider] : [])))];
  const providerResource = (name?: string) => ({
    urn: providerUrn(w, name),
    custom: true,
    id: PROVIDER_ID,
    type: door === "dynamic" ? "pulumi:providers:pulumi-nodejs" : `pulumi:providers:${PACKAGE}`,
    inputs: door === "dynamic" ? {} : { version: "0.3.0" },
    outputs: door === "dynamic" ? {} : { version: "0.3.0" },
    parent: name ? root : undefined,
  });
  const integration = (d: Declared) => ({
    urn: urn(d.name, w),
    custom: true,
    type: TYPES[door],
    inputs: props(d, door),
    parent: root,
    provider: `${providerUrn(w, d.provider)}::${PROVIDER_ID}`,
    propertyDependencies: { filters: [], label: [], properties: [] },
  });
  return `${JSON.stringify(
    {
      version: version ?? 3,
      deployment: {
        manifest: { time: "2026-11-26T00:00:00Z", magic: "x", version: "v3.210.0" },
        secrets_providers: organization
          ? { type: "service", state: { url: "https://api.pulumi.com", owner: organization, project, stack } }
          : { type: "passphrase", state: { salt: "v1:AAAA" } },
        resources: [
          { urn: root, custom: false, type: "pulumi:pulumi:Stack", outputs: {} },
          providerResource(),
          ...providerNames.map(providerResource),
          ...managed.map((d) => ({
            ...integration(d),
            id: d.id,
            outputs: { ...props(d, door), integrationId: d.id, userId: "1", stateVersion: 2 },
            ...(door === "dynamic" ? { additionalSecretOutputs: ["properties"] } : {}),
          })),
        ],
        pending_operations: [
          ...pending.map((d) => ({ resource: integration(d), type: "creating" })),
          ...otherPending.map(([name, type]) => ({
            resource: { urn: urn(name, w), custom: true, type: TYPES[door] },
            type,
          })),
        ],
        metadata: {},
      },
    },
    null,
    4,
  )}\n`;
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
  return auditWith({}, state, ...args);
}

async function auditWith(io: { env?: Record<string, string>; stdinIsTTY?: boolean }, state: string, ...args: string[]) {
  let stdout = "";
  let stderr = "";
  let code = 0;
  const cli = buildCli({
    stdinIsTTY: () => io.stdinIsTTY ?? false,
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
    env: io.env ?? env(),
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

describe("audit: several stacks, and never clean without checking (issue 17)", () => {
  const failure = async (run: Promise<unknown>) => {
    try {
      await run;
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error("expected the command to fail");
  };

  it("two stacks sharing an account: each one's integrations are theirs, not offered for adoption", async () => {
    const a = seed(global, "A", ["open"]);
    const b = seed(global, "B", ["open"]);
    const nobodys = seed(global, "Nobody's", ["open"]);
    const dir = mkdtempSync(join(tmpdir(), "audit-"));
    try {
      writeFileSync(join(dir, "prod.json"), stackExport([{ name: "a", id: a, label: "A", events: ["open"] }]));
      const staging = stackExport([{ name: "b", id: b, label: "B", events: ["open"] }], [], [], { stack: "staging" });
      writeFileSync(join(dir, "staging.json"), staging);
      const { json, code, stdout } = await audit(
        "",
        "--file",
        join(dir, "prod.json"),
        "--file",
        join(dir, "staging.json"),
        "--json",
      );
      expect(code).toBe(2);
      expect(json.stacks).toEqual([PROD, STAGING]);
      expect(json.groups[0].inSync).toEqual([
        { stack: PROD, name: "a", id: a },
        { stack: STAGING, name: "b", id: b },
      ]);
      expect(json.groups[0].unmanaged.map((u: { id: string }) => u.id)).toEqual([nobodys]);
      const human = await audit("", "--file", join(dir, "prod.json"), "--file", join(dir, "staging.json"));
      expect(human.stdout).toContain(`"Nobody's" (${nobodys}): live, not in these stacks' state.`);
      expect(stdout).not.toContain("in no state");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("one export given twice counts each resource once (not 'held twice')", async () => {
    const a = seed(global, "A", ["open"]);
    const dir = mkdtempSync(join(tmpdir(), "audit-"));
    try {
      writeFileSync(join(dir, "prod.json"), stackExport([{ name: "a", id: a, label: "A", events: ["open"] }]));
      const { json, code } = await audit(
        "",
        "--file",
        join(dir, "prod.json"),
        "--file",
        join(dir, "prod.json"),
        "--json",
      );
      expect(code).toBe(0);
      expect(json.groups[0].inSync).toEqual([{ stack: PROD, name: "a", id: a }]);
      expect(json.groups[0].heldTwice).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an export with no SegmentIntegration still reads the default account: live integrations are not 'clean'", async () => {
    const live = seed(global, "Live", ["open"]);
    const { json, code, stdout } = await audit(stackExport([]), "--json");
    expect(code).toBe(2);
    expect(json.clean).toBe(false);
    expect(json.groups).toHaveLength(1);
    expect(json.groups[0].unmanaged.map((u: { id: string }) => u.id)).toEqual([live]);
    expect(stdout).not.toContain("Clean");
  });

  it("with --on-behalf-of, the parent is read too", async () => {
    const parent = seed(global, "Parent's", ["open"]);
    const { json } = await audit(stackExport([]), "--json", "--on-behalf-of", "sub-x");
    expect(json.groups.map((g: { onBehalfOf?: string }) => g.onBehalfOf ?? "parent")).toEqual(["sub-x", "parent"]);
    expect(json.groups[1].unmanaged.map((u: { id: string }) => u.id)).toEqual([parent]);
  });

  it("nothing to check (no SegmentIntegration, no key, no account named): exit 1, saying so", async () => {
    const message = await failure(auditWith({ env: {} }, stackExport([])));
    expect(message).toBe(
      "nothing to check: the stack export has no SegmentIntegration and no account was named; set SENDGRID_API_KEY " +
        "to read the default account, or pass --account / --on-behalf-of",
    );
  });

  it("nothing could be read: not clean, exit 1, and the report says nothing was checked", async () => {
    const state = stackExport([{ name: "x", id: "abc", label: "X", events: ["open"], account: "nowhere" }]);
    const { stdout, code } = await auditWith({ env: {} }, state);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /Nothing was checked: no account or subuser could be read \(see above\), so this says nothing about SendGrid\.\n$/,
    );
  });

  it("a terminal on standard input and no --file: says how to feed it a stack export", async () => {
    expect(await failure(auditWith({ stdinIsTTY: true }, ""))).toBe(
      "no stack export: pipe one in (`pulumi stack export | npx pulumi-sendgrid-segment audit`) or pass --file <path>",
    );
  });

  it("an unreadable or corrupt --file: one line naming the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "audit-"));
    try {
      expect(await failure(audit("", "--file", join(dir, "missing.json")))).toBe(
        `--file ${join(dir, "missing.json")}: cannot be read (ENOENT)`,
      );
      writeFileSync(join(dir, "corrupt.json"), "{ not json");
      expect(await failure(audit("", "--file", join(dir, "corrupt.json")))).toBe(
        `--file ${join(dir, "corrupt.json")}: the state is not JSON: pass the output of \`pulumi stack export\``,
      );
      expect(await failure(audit("[1,2]"))).toBe(
        "standard input: no deployment.resources: pass the output of `pulumi stack export`",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Stack exports written to files, for `--file`; removed after each test. */
const written: string[] = [];
afterEach(() => {
  for (const dir of written.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function files(...texts: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), "audit-files-"));
  written.push(dir);
  return texts.map((text, i) => {
    const file = join(dir, `export-${i}.json`);
    writeFileSync(file, text);
    return file;
  });
}
const fileArgs = (paths: string[]) => paths.flatMap((path) => ["--file", path]);

describe("audit: both doors, and stacks told apart by organization, project and stack (issue 22)", () => {
  it("reads the plugin's resources as it reads the dynamic ones: in sync, drifted, gone; nothing offered twice", async () => {
    const synced = seed(global, "Synced", ["open"]);
    const drifted = seed(global, "Renamed in UI", ["open"]);
    const state = stackExport(
      [
        { name: "synced", id: synced, label: "Synced", events: ["open"] },
        { name: "drifted", id: drifted, label: "Original", events: ["open"] },
        { name: "gone", id: "deleted-in-ui", label: "Gone", events: ["open"] },
      ],
      [],
      [],
      { door: "native" },
    );
    const { json, code } = await audit(state, "--json");
    expect(code).toBe(2);
    expect(json.groups).toHaveLength(1);
    expect(json.groups[0]).toMatchObject({
      inSync: [{ stack: PROD, name: "synced", id: synced }],
      drifted: [{ stack: PROD, name: "drifted", id: drifted, fields: [{ field: "label" }] }],
      gone: [{ stack: PROD, name: "gone", id: "deleted-in-ui" }],
      unmanaged: [],
    });
  });

  it("a stack holding both doors' resources (moving from the dynamic resource): each is managed, none unmanaged", async () => {
    const dynamicId = seed(global, "Old", ["open"]);
    const nativeId = seed(global, "New", ["click"]);
    const dynamicExport = JSON.parse(stackExport([{ name: "old", id: dynamicId, label: "Old", events: ["open"] }]));
    const nativeExport = JSON.parse(
      stackExport([{ name: "new", id: nativeId, label: "New", events: ["click"] }], [], [], { door: "native" }),
    );
    // One deployment: the stack, both providers, both resources.
    dynamicExport.deployment.resources.push(...nativeExport.deployment.resources.slice(1));
    const { json, code } = await audit(JSON.stringify(dynamicExport, null, 4), "--json");
    expect(code).toBe(0);
    expect(json.groups[0].inSync).toEqual([
      { stack: PROD, name: "old", id: dynamicId },
      { stack: PROD, name: "new", id: nativeId },
    ]);
  });

  it("a pending create of the plugin's: recovery by the `import` option or `pulumi import`, a subuser's with its place in the id", async () => {
    const parentMatch = seed(global, "Pending", ["bounce"]);
    const subMatch = seed(global, "Pending", ["bounce"], WRITE_KEY, "sub");
    // --show-secrets: the write keys are compared, so the live ones are proven matches (issue 23).
    const properties = plaintext({ writeKey: WRITE_KEY, destinationRegion: "US" });
    const state = stackExport(
      [],
      [
        { name: "pend", label: "Pending", events: ["bounce"], properties },
        { name: "pend-sub", label: "Pending", events: ["bounce"], onBehalfOf: "sub", properties },
      ],
      [],
      { door: "native" },
    );
    const { json, stdout } = await audit(state, "--json");
    const parent = json.groups.find((g: { onBehalfOf?: string }) => !g.onBehalfOf);
    const sub = json.groups.find((g: { onBehalfOf?: string }) => g.onBehalfOf === "sub");
    expect(parent.pendingCreates[0].steps).toEqual([
      "pulumi refresh --clear-pending-creates --stack prod: drop the pending create from state",
      `add the resource option \`import: "${parentMatch}"\` to the declaration of "pend", then \`pulumi up --stack prod\`, ` +
        "then remove the option (or, for a resource declared at the top level, " +
        `\`pulumi import sendgrid-segment:index:SegmentIntegration pend ${parentMatch} --stack prod\`): ` +
        "it adopts that integration instead of creating a duplicate",
    ]);
    expect(sub.pendingCreates[0].steps[1]).toBe(
      `add the resource option \`import: "sub/${subMatch}"\` to the declaration of "pend-sub", then \`pulumi up --stack prod\`, ` +
        "then remove the option (or, for a resource declared at the top level, " +
        `\`pulumi import sendgrid-segment:index:SegmentIntegration pend-sub sub/${subMatch} --stack prod\`): ` +
        "it adopts that integration instead of creating a duplicate",
    );
    expect(stdout).not.toContain("cannot import it for a dynamic resource");
  });

  it("reads the organization from Pulumi Cloud's secrets provider: two orgs' stacks of one name stay two stacks", async () => {
    const a = seed(global, "A", ["open"]);
    const b = seed(global, "B", ["open"]);
    const acme = stackExport([{ name: "x", id: a, label: "A", events: ["open"] }], [], [], { organization: "acme" });
    const other = stackExport([{ name: "x", id: b, label: "B", events: ["open"] }], [], [], { organization: "other" });
    const paths = files(acme, other);
    const { json, code } = await audit("", ...fileArgs(paths), "--json");
    expect(code).toBe(0);
    expect(json.stacks).toEqual([`acme/${PROJECT}/prod`, `other/${PROJECT}/prod`]);
    expect(json.groups[0].inSync).toEqual([
      { stack: `acme/${PROJECT}/prod`, name: "x", id: a },
      { stack: `other/${PROJECT}/prod`, name: "x", id: b },
    ]);
    // The text names the stack of every finding, since there are several.
    const human = await audit("", ...fileArgs(paths));
    expect(human.stdout).toContain(`  in sync       x (${a}), stack acme/${PROJECT}/prod\n`);
    expect(human.stdout).toContain(`  in sync       x (${b}), stack other/${PROJECT}/prod\n`);
  });

  it("lists the stacks sorted, and an export that names no stack as none", async () => {
    const paths = files(
      stackExport([], [], [], { stack: "staging" }),
      JSON.stringify({ version: 3, deployment: { resources: [] } }),
      stackExport([], [], [], { stack: "prod" }),
    );
    const { json } = await audit("", ...fileArgs(paths), "--json");
    expect(json.stacks).toEqual([PROD, STAGING]);
    const one = files(stackExport([]), JSON.stringify({ version: 3, deployment: {} }));
    seed(global, "Nobody's", ["open"]);
    const { stdout } = await audit("", ...fileArgs(one));
    expect(stdout).toContain("live, not in this stack's state");
  });

  it("steps name an organization's stack in full, as the CLI's --stack takes it", async () => {
    const state = stackExport([], [{ name: "p", label: "P", events: ["open"] }], [["u", "updating"]], {
      organization: "acme",
    });
    const { json } = await audit(state, "--json");
    expect(json.groups[0].pendingCreates[0].steps[0]).toBe(
      `pulumi refresh --clear-pending-creates --stack acme/${PROJECT}/prod: drop the pending create from state ` +
        "(the CLI cannot import it for a dynamic resource)",
    );
    expect(json.otherPending[0].steps).toEqual([
      `an interrupted updating operation: run \`pulumi refresh --stack acme/${PROJECT}/prod\``,
    ]);
  });

  it("two different exports of one organization's stack: an error naming both, nothing read", async () => {
    const paths = files(
      stackExport([{ name: "x", id: "1", label: "A", events: ["open"] }], [], [], { organization: "acme" }),
      stackExport([{ name: "x", id: "2", label: "A", events: ["open"] }], [], [], { organization: "acme" }),
    );
    const before = global.requests.length;
    await expect(audit("", ...fileArgs(paths))).rejects.toThrow(
      `--file ${paths[0]} and --file ${paths[1]} are two different exports of the stack acme/${PROJECT}/prod: pass one, the current one`,
    );
    expect(global.requests.length).toBe(before);
  });

  it("without an organization (a self-managed backend), two different exports of one name are two stacks, never merged", async () => {
    const id = seed(global, "Shared", ["open"]);
    // The second export holds more: a different export, of a stack with the same name.
    const paths = files(
      stackExport([{ name: "x", id, label: "Shared", events: ["open"] }]),
      stackExport(
        [
          { name: "x", id, label: "Shared", events: ["open"] },
          { name: "y", id: "9", label: "Y", events: ["open"] },
        ],
        [{ name: "p", label: "Pending", events: ["click"] }],
        [["u", "updating"]],
      ),
    );
    const { json, code } = await audit("", ...fileArgs(paths), "--json");
    expect(code).toBe(2);
    const [first, second] = [`${PROD} (--file ${paths[0]})`, `${PROD} (--file ${paths[1]})`];
    expect(json.stacks).toEqual([first, second].sort());
    // Both hold the integration: a destroy in either deletes it for the other.
    expect(json.groups[0].heldTwice).toEqual([
      {
        id,
        holders: [
          { stack: first, name: "x", urn: urn("x") },
          { stack: second, name: "x", urn: urn("x") },
        ],
      },
    ]);
    expect(json.groups[0].gone).toEqual([{ stack: second, name: "y", id: "9" }]);
    expect(json.groups[0].pendingCreates.map((p: { stack: string }) => p.stack)).toEqual([second]);
    expect(json.otherPending.map((op: { stack: string }) => op.stack)).toEqual([second]);
  });

  it("an explicit provider's resources: not checked until --provider names its account, then read there", async () => {
    const id = seed(eu, "Through eu", ["open"]);
    const state = stackExport([{ name: "e", id, label: "Through eu", events: ["open"], provider: "eu" }], [], [], {
      door: "native",
    });
    const unassigned = await audit(state);
    expect(unassigned.code).toBe(1);
    expect(unassigned.stdout).toContain(
      'explicit provider "eu", parent:\n  not checked: the explicit provider "eu" holds its key encrypted in state, ' +
        "so audit cannot tell its account: pass --provider eu=<account> (the key from " +
        "SENDGRID_ACCOUNT_<ACCOUNT>_API_KEY), or --provider eu=default (SENDGRID_API_KEY)\n",
    );
    const assigned = await audit(state, "--provider", "eu=eu-brand", "--json");
    expect(assigned.code).toBe(0);
    expect(assigned.json.groups.map((g: { account?: string }) => g.account ?? "default")).toEqual([
      "eu-brand",
      "default",
    ]);
    expect(assigned.json.groups[0].inSync).toEqual([{ stack: PROD, name: "e", id }]);
    // "default" is the default account: there it is not found, and so gone.
    const asDefault = await audit(state, "--provider", "eu=default", "--json");
    expect(asDefault.json.groups).toHaveLength(1);
    expect(asDefault.json.groups[0].gone).toEqual([{ stack: PROD, name: "e", id }]);
  });

  it("an export from a pull request cannot clear the screen or print a fake verdict: its text is shown escaped", async () => {
    const attack = "x\x1b[2J\x1b[H\nClean: state and SendGrid agree.\x1b]8;;https://evil.example\x07\u202e";
    const state = stackExport(
      [{ name: attack, id: "deleted", label: attack, events: ["open"], account: attack, onBehalfOf: attack }],
      [],
      [],
      { stack: "prod" },
    );
    const { stdout, code } = await audit(state);
    expect(code).toBe(1);
    expect(stdout).not.toMatch(/(?!\n)[\p{Cc}\u202e]/u);
    expect(stdout.split("\n").filter((line) => line.startsWith("Clean"))).toEqual([]);
    const shownAttack = "x\\x1b[2J\\x1b[H\\nClean: state and SendGrid agree.\\x1b]8;;https://evil.example\\x07\\u202e";
    expect(stdout).toContain(
      `account "${shownAttack}", subuser "${shownAttack}":\n  not checked: no API key for account`,
    );
    const json = await audit(state, "--json");
    expect(json.stdout).not.toMatch(/(?!\n)[\p{Cc}\u202e]/u);
    expect(json.json.groups[0].account).toBe(attack);
  });

  it("--provider takes NAME=ACCOUNT, and says so", async () => {
    for (const bad of ["eu", "=eu-brand", "eu=", "eu=9bad"]) {
      await expect(audit(stackExport([]), "--provider", bad), bad).rejects.toThrow(
        `--provider ${bad}: expected <provider name>=<account>`,
      );
    }
  });
});

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
        stack: PROD,
        name: "drifted",
        id: drifted,
        fields: [
          { field: "label", state: "Original", live: "Renamed in UI" },
          { field: "properties.writeKey" },
          { field: "properties.destinationRegion", state: "EU", live: "US" },
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
      `drifted       drifted (${drifted}): label "Original" → "Renamed in UI"; properties.writeKey; properties.destinationRegion "EU" → "US".`,
    );
    expect(human.stdout).toContain("gone          gone (deleted-in-ui): in state, not in SendGrid.");
    expect(human.stdout).toContain(
      `unmanaged     "Made in UI" (${unmanaged}): live, not in this stack's state. Adopt it with:`,
    );
    expect(human.stdout).toMatch(/Needs attention: see above\.\n$/);
  });

  it("with encrypted secrets, compares what it can and never reports the write key or region", async () => {
    const id = seed(global, "Enc", ["open"], "wk_live_other_99", "enc");
    const { json, code } = await audit(
      stackExport([{ name: "enc", id, label: "Enc", events: ["open"], onBehalfOf: "enc" }]),
      "--json",
    );
    expect(code).toBe(0);
    expect(json.groups[0].inSync).toEqual([{ stack: PROD, name: "enc", id }]);
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
    // --show-secrets: a match needs the write key shown on both sides (issue 23).
    const properties = plaintext({ writeKey: WRITE_KEY, destinationRegion: "US" });
    const state = stackExport(
      [],
      [
        {
          name: "pend",
          label: "Pending",
          events: ["delivered", "bounce"],
          account: "eu-brand",
          onBehalfOf: account,
          properties,
        },
      ],
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
      { stack: PROD, name: "prod-events", id: "5a1234" },
    ]);
    const pending = json.groups.find((g: { onBehalfOf?: string }) => g.onBehalfOf === "staging").pendingCreates[0];
    // The sample's write key is encrypted: the live twin may be it, but is not proven to be (issue 23).
    expect(pending).toMatchObject({ name: "staging-events", matches: [], possibleMatches: [staging] });
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
        stack: PROD,
        steps: ["an interrupted updating operation: run `pulumi refresh --stack prod`"],
      },
    ]);
    // The named place, and the default account's parent (always read when SENDGRID_API_KEY is set).
    expect(json.groups).toHaveLength(2);
    expect(json.groups[0]).toMatchObject({ account: "eu-brand", onBehalfOf: "named-sub", unmanaged: [{ id: extra }] });
    expect(json.groups[1]).toMatchObject({ inSync: [], unmanaged: [] });
    expect(json.groups[1].account).toBeUndefined();
  });

  it("exit 1 when an account cannot be read, naming the variable to set; the rest is still reported", async () => {
    const state = stackExport([{ name: "x", id: "abc", label: "X", events: ["open"], account: "nowhere" }]);
    const { stdout, code } = await audit(state);
    expect(code).toBe(1);
    // The commands read no stack config, so the advice names only the variables.
    expect(stdout).toContain(
      'account "nowhere", parent:\n  not checked: no API key for account "nowhere": set SENDGRID_ACCOUNT_NOWHERE_API_KEY ' +
        "(and SENDGRID_ACCOUNT_NOWHERE_REGION or SENDGRID_ACCOUNT_NOWHERE_API_BASE_URL as needed)",
    );
    expect(stdout).not.toContain("pulumi config");
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
    expect(JSON.parse(stdout).groups[0].inSync).toEqual([{ stack: PROD, name: "bin", id }]);
  });
});

// The pure parts, on hand-made inputs: what each reads from state, what it matches, and the exact
// text people read.
describe("audit's parts", () => {
  const exportOf = (deployment: unknown, version: unknown = 3) => JSON.stringify({ version, deployment });
  const resource = (fields: Record<string, unknown>) => ({ type: SEGMENT_INTEGRATION_TYPE, ...fields });

  it("refuses a document without a list of resources, and a version other than 3", () => {
    for (const text of [
      "null",
      exportOf(null),
      exportOf("x"),
      exportOf({ resources: {} }),
      exportOf({ resources: "r" }),
    ]) {
      expect(() => parseStackExport(text), text).toThrow(StateFormatError);
      expect(() => parseStackExport(text), text).toThrow(
        /^no deployment\.resources: pass the output of `pulumi stack export`$/,
      );
    }
    expect(() => parseStackExport(exportOf({}, "3"))).toThrow(
      'stack export version "3" is not supported (expected 3 or 4)',
    );
    expect(() => parseStackExport(exportOf({}, 5))).toThrow(
      "stack export version 5 is not supported (expected 3 or 4)",
    );
    // Version 4 is what the CLI writes when a resource uses a newer feature: the same shape.
    expect(parseStackExport(exportOf({ resources: [resource({ urn: "u" })] }, 4)).managed).toHaveLength(1);
  });

  it("reads an empty deployment, and one without a version, as nothing managed", () => {
    const empty: StackState = { id: {}, stack: "", stackRef: "", managed: [], pendingCreates: [], otherPending: [] };
    expect(parseStackExport(exportOf({}))).toStrictEqual(empty);
    expect(parseStackExport(JSON.stringify({ deployment: { resources: [] } }))).toStrictEqual(empty);
    expect(
      parseStackExport(exportOf({ resources: [null, 7, { type: "other" }], pending_operations: [null, {}] })),
    ).toStrictEqual(empty);
    // Names an object has of its own prototype are no resource type; pending operations that are no list are none.
    expect(
      parseStackExport(
        exportOf({ resources: [{ type: "constructor" }, { type: "toString" }, { type: 7 }], pending_operations: "x" }),
      ),
    ).toStrictEqual(empty);
  });

  it("takes outputs over inputs, inputs when there are no outputs, and defaults for what neither holds", () => {
    const state = parseStackExport(
      exportOf({
        resources: [
          resource({
            urn: `urn:pulumi:dev::p::${SEGMENT_INTEGRATION_TYPE}::both`,
            id: "id-1",
            inputs: { label: "from inputs" },
            outputs: { label: "from outputs", destination: "Elsewhere", account: "eu", onBehalfOf: "sub" },
          }),
          resource({
            urn: "not-a-urn",
            id: "",
            inputs: { label: "only inputs", filters: null, account: "", onBehalfOf: "" },
          }),
          resource({ urn: "x::urn:pulumi:dev::p::t::embedded", outputs: { label: "E" } }),
          resource({
            id: 7,
            outputs: { label: 5, destination: 5, account: 5, onBehalfOf: 5, filters: { emailEvents: "open" } },
          }),
        ],
      }),
    );
    // One export is one stack: the first urn that names one says which, for every resource.
    const dev = { stack: "p/dev", stackRef: "dev", door: "dynamic" } as const;
    expect(state.managed).toStrictEqual([
      {
        urn: `urn:pulumi:dev::p::${SEGMENT_INTEGRATION_TYPE}::both`,
        name: "both",
        ...dev,
        id: "id-1",
        account: "eu",
        onBehalfOf: "sub",
        label: "from outputs",
        destination: "Elsewhere",
        emailEvents: [],
      },
      { urn: "not-a-urn", name: "not-a-urn", ...dev, label: "only inputs", destination: "Segment", emailEvents: [] },
      {
        urn: "x::urn:pulumi:dev::p::t::embedded",
        name: "embedded",
        ...dev,
        label: "E",
        destination: "Segment",
        emailEvents: [],
      },
      { urn: "", name: "", ...dev, label: "Untitled Integration", destination: "Segment", emailEvents: [] },
    ] satisfies StateIntegration[]);
  });

  it("reads properties in the clear and as --show-secrets plaintext; anything else is unknown", () => {
    const sig = "4dabf18193072939515e22adb298388d";
    const withProperties = (properties: unknown) =>
      parseStackExport(exportOf({ resources: [resource({ urn: "u", outputs: { properties } })] })).managed[0];
    const known = { destinationRegion: "EU", writeKey: "wk-known" };
    expect(withProperties(known)).toMatchObject(known);
    expect(withProperties({ [sig]: "x", plaintext: JSON.stringify(known) })).toMatchObject(known);
    for (const unknown of [
      "EU",
      { [sig]: "x", ciphertext: "v1:AAAA" },
      { [sig]: "x", plaintext: "not json" },
      // An envelope whose plaintext is not a string is not one the CLI writes: not read.
      { [sig]: "x", plaintext: [JSON.stringify(known)] },
    ]) {
      const read = withProperties(unknown);
      expect(read, JSON.stringify(unknown)).not.toHaveProperty("destinationRegion");
      expect(read, JSON.stringify(unknown)).not.toHaveProperty("writeKey");
    }
  });

  it("knows a stack by the Pulumi Cloud secrets provider's owner, project and stack, else by its urns", () => {
    const urns = [
      { urn: "x::urn:pulumi:embedded::e::t::n" },
      { urn: "urn:pulumi:dev::p::t::n" },
      { urn: "urn:pulumi:b::q::t::n" },
    ];
    const service = (state: unknown) => ({ secrets_providers: { type: "service", state } });
    expect(stackIdOf(service({ owner: "acme", project: "proj", stack: "prod" }), urns)).toStrictEqual({
      organization: "acme",
      project: "proj",
      stack: "prod",
    });
    // What the service's state leaves out, the first urn that names a stack tells; never an organization.
    expect(stackIdOf(service({ owner: "", project: 5 }), urns)).toStrictEqual({ project: "p", stack: "dev" });
    expect(stackIdOf(service(null), urns)).toStrictEqual({ project: "p", stack: "dev" });
    expect(
      stackIdOf(
        { secrets_providers: { type: "passphrase", state: { owner: "acme", project: "x", stack: "y" } } },
        urns,
      ),
    ).toStrictEqual({ project: "p", stack: "dev" });
    expect(stackIdOf({}, [null, { urn: 7 }, {}])).toStrictEqual({});
    expect(stackIdOf(undefined, [])).toStrictEqual({});
    expect(labelOf({ organization: "acme", project: "p", stack: "s" })).toBe("acme/p/s");
    expect(labelOf({ project: "p", stack: "s" })).toBe("p/s");
    expect(labelOf({})).toBe("");
    // Read from a whole export: the organization's stack is its --stack argument too.
    const exported = parseStackExport(
      stackExport([{ name: "a", id: "1", label: "A", events: ["open"] }], [], [], { organization: "acme" }),
    );
    expect(exported).toMatchObject({ stack: `acme/${PROJECT}/prod`, stackRef: `acme/${PROJECT}/prod` });
    expect(exported.managed[0]).toMatchObject({ stack: `acme/${PROJECT}/prod`, stackRef: `acme/${PROJECT}/prod` });
  });

  it("reads each door's type, and the plugin's explicit providers by name (default ones are none)", () => {
    const provider = (reference: unknown, type = RESOURCE_TOKEN) =>
      parseStackExport(exportOf({ resources: [{ type, urn: "u", provider: reference }] })).managed[0];
    const explicit = `urn:pulumi:s::p::pulumi:providers:${PACKAGE}::eu::id-1`;
    expect(provider(explicit)).toMatchObject({ door: "native", provider: "eu" });
    expect(provider(explicit, SEGMENT_INTEGRATION_TYPE)).toMatchObject({ door: "dynamic", provider: "eu" });
    expect(provider(`urn:pulumi:s::p::my:index:Component$pulumi:providers:${PACKAGE}::nested::id`)).toMatchObject({
      provider: "nested",
    });
    for (const reference of [
      `urn:pulumi:s::p::pulumi:providers:${PACKAGE}::default_0_3_0::id`,
      `urn:pulumi:s::p::pulumi:providers:${PACKAGE}::default::id`,
      "urn:pulumi:s::p::pulumi:providers:pulumi-nodejs::explicit::id",
      `urn:pulumi:s::p::pulumi:providers:${PACKAGE}x::eu::id`,
      `urn:pulumi:s::p::pulumi:providers:${PACKAGE}`,
      7,
      undefined,
    ]) {
      expect(provider(reference), String(reference)).not.toHaveProperty("provider");
    }
    expect(parseStackExport(exportOf({ resources: [{ type: `${RESOURCE_TOKEN}x`, urn: "u" }] })).managed).toEqual([]);
  });

  it("opens secrets anywhere in a value: a write key the program made secret inside plain properties", () => {
    const sig = "4dabf18193072939515e22adb298388d";
    const read = (properties: unknown) =>
      parseStackExport(exportOf({ resources: [resource({ urn: "u", outputs: { properties } })] })).managed[0];
    expect(read({ writeKey: { [sig]: "x", plaintext: '"wk-nested"' }, destinationRegion: "EU" })).toMatchObject({
      writeKey: "wk-nested",
      destinationRegion: "EU",
    });
    const hidden = read({ writeKey: { [sig]: "x", ciphertext: "v1:A" }, destinationRegion: "US" });
    expect(hidden).toMatchObject({ destinationRegion: "US" });
    expect(hidden).not.toHaveProperty("writeKey");
    const listed = parseStackExport(
      exportOf({
        resources: [
          resource({ urn: "u", outputs: { filters: { emailEvents: [{ [sig]: "x", plaintext: '"open"' }] } } }),
        ],
      }),
    ).managed[0];
    expect(listed?.emailEvents).toEqual(["open"]);
  });

  it("places a resource by its account, else by the account its explicit provider was given, else by the provider", () => {
    const providers = new Map([
      ["eu", "eu-brand"],
      ["main", "default"],
    ]);
    expect(placeOf({ account: "x", provider: "eu", onBehalfOf: "s" }, providers)).toStrictEqual({
      account: "x",
      onBehalfOf: "s",
    });
    expect(placeOf({ provider: "eu", onBehalfOf: "s" }, providers)).toStrictEqual({
      account: "eu-brand",
      onBehalfOf: "s",
    });
    expect(placeOf({ provider: "main" }, providers)).toStrictEqual({});
    expect(placeOf({ provider: "other" }, providers)).toStrictEqual({ provider: "other" });
    expect(placeOf({ provider: "eu" })).toStrictEqual({ provider: "eu" });
    expect(placeOf({ account: "", onBehalfOf: "" })).toStrictEqual({});
    expect(where({ provider: "eu" })).toBe('explicit provider "eu", parent');
    expect(where({ provider: "eu", onBehalfOf: "s" })).toBe('explicit provider "eu", subuser "s"');
    expect(where({ account: "a" })).toBe('account "a", parent');
    expect(unassignedProvider("p")).toContain("pass --provider p=<account>");
  });

  it("sorts pending operations: creates with their inputs, the rest by type; other resources are skipped", () => {
    const urnOf = (name: string) => `urn:pulumi:prod::p::${SEGMENT_INTEGRATION_TYPE}::${name}`;
    const state = parseStackExport(
      exportOf({
        resources: [],
        pending_operations: [
          { type: "creating", resource: resource({ urn: urnOf("new"), inputs: { label: "New" } }) },
          { type: "creating", resource: { type: "aws:s3:Bucket", urn: "urn:pulumi:prod::p::aws:s3:Bucket::b" } },
          { type: "updating", resource: resource({ urn: urnOf("changing") }) },
          { type: "deleting" },
        ],
      }),
    );
    // The stack is named by the pending operations' urns when no resource names it.
    const prod = { stack: "p/prod", stackRef: "prod" };
    expect(state.pendingCreates).toStrictEqual([
      {
        urn: urnOf("new"),
        name: "new",
        ...prod,
        door: "dynamic",
        label: "New",
        destination: "Segment",
        emailEvents: [],
      },
    ]);
    expect(state.otherPending).toStrictEqual([{ urn: urnOf("changing"), type: "updating", ...prod }]);
  });

  const integration = (fields: Partial<StateIntegration> & { name: string }): StateIntegration => ({
    urn: `urn:pulumi:prod::p::${SEGMENT_INTEGRATION_TYPE}::${fields.name}`,
    stack: "prod",
    stackRef: "prod",
    door: "dynamic",
    label: "L",
    destination: "Segment",
    emailEvents: ["open"],
    ...fields,
  });
  const live = (id: string, fields: Partial<LiveIntegration> = {}, region: "US" | "EU" = "US"): LiveIntegration => ({
    integrationId: id,
    userId: "1",
    label: "L",
    destination: "Segment",
    filters: { emailEvents: ["open"] },
    properties: { destinationRegion: region },
    ...fields,
  });
  /** A place where one integration is in sync and nothing else was found. */
  const inSyncOnly = () => ({
    inSync: [{ stack: "prod", name: "a", id: "1" }],
    drifted: [],
    gone: [],
    heldTwice: [],
    unmanaged: [],
    pendingCreates: [],
  });
  const stateOf = (managed: StateIntegration[], pendingCreates: StateIntegration[] = []): Holdings => ({
    managed,
    pendingCreates,
    otherPending: [],
  });

  it("lists each account and subuser once, in the order first seen, with the extra ones asked for", () => {
    const state = stateOf(
      [
        integration({ name: "a", account: "x" }),
        integration({ name: "b", account: "y" }),
        integration({ name: "c", account: "x" }),
        integration({ name: "d", onBehalfOf: "s1" }),
      ],
      [integration({ name: "e", onBehalfOf: "s2" }), integration({ name: "f" })],
    );
    expect(placesOf(state)).toStrictEqual([
      { account: "x" },
      { account: "y" },
      { onBehalfOf: "s1" },
      { onBehalfOf: "s2" },
      {},
    ]);
    expect(
      placesOf(stateOf([]), [
        { account: "z", onBehalfOf: "s" },
        { account: "z", onBehalfOf: "s" },
      ]),
    ).toStrictEqual([{ account: "z", onBehalfOf: "s" }]);
    expect(placesOf(stateOf([]))).toStrictEqual([]);
  });

  it("compares each field, the write key only when both sides hold a real one", () => {
    const s = integration({ stack: "prod", name: "s", id: "1", destinationRegion: "EU", writeKey: "wk-same" });
    const report = auditPlace({}, stateOf([s, { ...s, name: "t", id: "2" }, { ...s, name: "u", id: "3" }]), [
      live("1", { writeKey: "wk-same" }, "EU"),
      live("2", {
        label: "M",
        destination: "Other" as LiveIntegration["destination"],
        filters: { emailEvents: ["click", "open"] },
        writeKey: "wk-other",
        properties: {} as LiveIntegration["properties"],
      }),
      live("3", { writeKey: "wk-***" }, "EU"),
    ]);
    expect(report).toStrictEqual({
      inSync: [
        { stack: "prod", name: "s", id: "1" },
        { stack: "prod", name: "u", id: "3" },
      ],
      drifted: [
        {
          stack: "prod",
          name: "t",
          id: "2",
          fields: [
            // diff's fields, in diff's order: one notion of "the same integration"
            { field: "label", state: "L", live: "M" },
            { field: "filters.emailEvents", state: "open", live: "click,open" },
            { field: "properties.writeKey" },
            { field: "properties.destinationRegion", state: "EU", live: "" },
            { field: "destination", state: "Segment", live: "Other" },
          ],
        },
      ],
      gone: [],
      heldTwice: [],
      unmanaged: [],
      pendingCreates: [],
    });
  });

  it("an integration two resources manage (one stack or two) needs attention, naming both", () => {
    const a = integration({ name: "a", id: "7" });
    const b = integration({ name: "b", id: "7", stack: "staging", urn: "urn:b" });
    const report = auditPlace({}, stateOf([a, b]), [live("7")]);
    expect(report.heldTwice).toStrictEqual([
      {
        id: "7",
        holders: [
          { stack: "prod", name: "a", urn: a.urn },
          { stack: "staging", name: "b", urn: "urn:b" },
        ],
      },
    ]);
    expect(needsAttention(report)).toBe(true);
    expect(auditPlace({}, stateOf([a]), [live("7")]).heldTwice).toStrictEqual([]);
  });

  it("matches a pending create on every known field, and only in its own account and subuser", () => {
    const pending = integration({ name: "p", destinationRegion: "EU", writeKey: "wk-p" });
    const elsewhere = integration({ name: "q", account: "other" });
    const candidates = [
      live("label", { label: "M" }, "EU"),
      live("destination", { destination: "Other" as LiveIntegration["destination"] }, "EU"),
      live("events", { filters: { emailEvents: ["click"] } }, "EU"),
      live("region", {}, "US"),
      live("key", { writeKey: "wk-other" }, "EU"),
      live("same-key", { writeKey: "wk-p" }, "EU"),
      live("masked-key", { writeKey: "****" }, "EU"),
    ];
    const report = auditPlace({}, stateOf([], [pending, elsewhere]), candidates);
    expect(report.pendingCreates).toStrictEqual([
      {
        stack: "prod",
        name: "p",
        urn: pending.urn,
        // A masked key is never the same as a declared one: that one may be it, not proven (issue 23).
        matches: ["same-key"],
        possibleMatches: ["masked-key"],
        steps: [
          "pulumi refresh --clear-pending-creates --stack prod: drop the pending create from state (the CLI cannot import it for a dynamic resource)",
          'add `importId: "same-key"` to the declaration of "p", then `pulumi up --stack prod`: it adopts that integration instead of creating a duplicate',
          'besides, 1 live integration may be "p" (masked-key): label, destination and events agree, but SendGrid masks or ' +
            "leaves out the write key. Check the write key in SendGrid before deleting any: an integration of another " +
            "Segment source is not a duplicate",
        ],
      },
    ]);
    expect(report.unmanaged.map((u) => u.id)).toStrictEqual(["label", "destination", "events", "region", "key"]);
    // Unknown region and key: anything with the same label, destination and events may be it, none is proven.
    const loose = auditPlace({}, stateOf([], [integration({ name: "p", stackRef: "" })]), [live("x", {}, "EU")]);
    expect(loose.pendingCreates[0]).toMatchObject({ matches: [], possibleMatches: ["x"] });
    expect(loose.pendingCreates[0]?.steps).toStrictEqual([
      "pulumi refresh --clear-pending-creates: drop the pending create from state (the CLI cannot import it for a dynamic resource)",
      '1 live integration may be "p" (x): label, destination and events agree, but the export holds the write key and ' +
        "region encrypted (re-export with `pulumi stack export --show-secrets` to compare them). Before adopting, check " +
        "the write key and region in SendGrid: adopting sets every field, the write key included, so adopting another " +
        "Segment source's integration would take it over",
      'only if its write key is the one "p" declares: add `importId: "x"` to the declaration of "p", then `pulumi up`; ' +
        'if not, `pulumi up` creates "p"',
    ]);
    // Several possible ones: the one to adopt is for the user to find; a possible one is offered to
    // every pending create it may be, and is not also reported as unmanaged.
    const two = auditPlace(
      {},
      stateOf([], [integration({ name: "p", writeKey: "wk-p" }), integration({ name: "q", writeKey: "wk-q" })]),
      [live("y", { writeKey: "****" }), live("z", {})],
    );
    expect(two.pendingCreates.map((c) => [c.matches, c.possibleMatches])).toStrictEqual([
      [[], ["y", "z"]],
      [[], ["y", "z"]],
    ]);
    expect(two.pendingCreates[0]?.steps.slice(1)).toStrictEqual([
      '2 live integrations may be "p" (y, z): label, destination and events agree, but the export holds the region ' +
        "encrypted (re-export with `pulumi stack export --show-secrets` to compare it), and SendGrid masks or leaves " +
        "out the write key. Before adopting, check the write key and region in SendGrid: adopting sets every field, " +
        "the write key included, so adopting another Segment source's integration would take it over",
      'only if its write key is the one "p" declares: add `importId: "<the one whose write key it is>"` to the ' +
        'declaration of "p", then `pulumi up --stack prod`; if not, `pulumi up --stack prod` creates "p"',
    ]);
    expect(two.unmanaged).toStrictEqual([]);
  });

  it("a pending create whose region SendGrid leaves out: may be it on the fields shown, each hidden field named", () => {
    const pending = integration({ name: "p", destinationRegion: "EU", writeKey: "wk-p" });
    const report = auditPlace({}, stateOf([], [pending]), [
      live("masked", { writeKey: "****" }, "EU"),
      live("no-region", { writeKey: "wk-p", properties: {} as LiveIntegration["properties"] }),
      live("no-region-other-key", { writeKey: "wk-other", properties: {} as LiveIntegration["properties"] }),
    ]);
    // One hides the write key, the other the region: both are named, as SendGrid's doing.
    expect(report.pendingCreates).toStrictEqual([
      {
        stack: "prod",
        name: "p",
        urn: pending.urn,
        matches: [],
        possibleMatches: ["masked", "no-region"],
        steps: [
          "pulumi refresh --clear-pending-creates --stack prod: drop the pending create from state (the CLI cannot import it for a dynamic resource)",
          '2 live integrations may be "p" (masked, no-region): label, destination and events agree, but SendGrid masks ' +
            "or leaves out the write key and region. Before adopting, check the write key and region in SendGrid: " +
            "adopting sets every field, the write key included, so adopting another Segment source's integration would take it over",
          'only if its write key is the one "p" declares: add `importId: "<the one whose write key it is>"` to the ' +
            'declaration of "p", then `pulumi up --stack prod`; if not, `pulumi up --stack prod` creates "p"',
        ],
      },
    ]);
    // A different write key is proven another integration, region shown or not.
    expect(report.unmanaged.map((u) => u.id)).toStrictEqual(["no-region-other-key"]);
  });

  it("recovers a pending create per door: the plugin's import (its id naming the place), importId in the dynamic door", () => {
    // Region and write key shown on both sides (--show-secrets): the live ones are proven matches.
    const shown = { destinationRegion: "US", writeKey: "wk-p" };
    const stepsFor = (fields: Partial<StateIntegration>, matches = ["m1"], providers?: Map<string, string>) => {
      const pending = integration({ name: "p", ...shown, ...fields });
      const place = placeOf(pending, providers);
      return auditPlace(
        place,
        stateOf([], [pending]),
        matches.map((id) => live(id, { writeKey: "wk-p" })),
        providers,
      ).pendingCreates[0]!.steps;
    };
    const importOption = (id: string, command: string) =>
      `add the resource option \`import: "${id}"\` to the declaration of "p", then \`pulumi up --stack prod\`, then remove the option${command}`;
    const cli = (id: string) =>
      ` (or, for a resource declared at the top level, \`pulumi import sendgrid-segment:index:SegmentIntegration p ${id} --stack prod\`)`;
    const adopts = ": it adopts that integration instead of creating a duplicate";
    expect(stepsFor({ door: "native" })).toStrictEqual([
      "pulumi refresh --clear-pending-creates --stack prod: drop the pending create from state",
      `${importOption("m1", cli("m1"))}${adopts}`,
    ]);
    // Two matches: the one kept is for the user to fill in (quoted for the shell meanwhile).
    expect(stepsFor({ door: "native" }, ["m1", "m2"])[2]).toBe(
      importOption("<the one you kept>", cli("'<the one you kept>'")),
    );
    // Through an explicit provider, `pulumi import` would need --provider: the option only.
    expect(stepsFor({ door: "native", provider: "eu" }, ["m1"], new Map([["eu", "default"]]))[1]).toBe(
      `${importOption("m1", "")}${adopts}`,
    );
    expect(stepsFor({ door: "dynamic" })[1]).toBe(
      `add \`importId: "m1"\` to the declaration of "p", then \`pulumi up --stack prod\`${adopts}`,
    );
    // The plugin's import id names the subuser and the named account: its Read gets the id alone.
    expect(stepsFor({ door: "native", onBehalfOf: "sub" })[1]).toBe(
      `${importOption("sub/m1", cli("sub/m1"))}${adopts}`,
    );
    expect(stepsFor({ door: "native", account: "eu", onBehalfOf: "sub" })[1]).toBe(
      `${importOption("eu:sub/m1", cli("eu:sub/m1"))}${adopts}`,
    );
    expect(stepsFor({ door: "native", account: "eu" })[1]).toBe(`${importOption("eu:m1", cli("eu:m1"))}${adopts}`);
    // A name a shell would read is quoted in the command, and shown as it is elsewhere.
    const odd = auditPlace({}, stateOf([], [integration({ name: "a b", door: "native", ...shown })]), [
      live("m1", { writeKey: "wk-p" }),
    ]);
    expect(odd.pendingCreates[0]!.steps[1]).toContain(
      "pulumi import sendgrid-segment:index:SegmentIntegration 'a b' m1",
    );
    expect(odd.pendingCreates[0]!.steps[1]).toContain('to the declaration of "a b"');
  });

  it("reports a managed integration without an id, or not listed, as gone", () => {
    const report = auditPlace(
      {},
      stateOf([integration({ name: "no-id" }), integration({ stack: "prod", name: "deleted", id: "9" })]),
      [],
    );
    expect(report.gone).toStrictEqual([
      { stack: "prod", name: "no-id", id: "" },
      { stack: "prod", name: "deleted", id: "9" },
    ]);
  });

  it("needs attention for any one finding, and not for integrations in sync", () => {
    const base = inSyncOnly();
    expect(needsAttention(base)).toBe(false);
    for (const finding of [
      { error: "unreadable" },
      { drifted: [{ stack: "prod", name: "a", id: "1", fields: [] }] },
      { gone: [{ stack: "prod", name: "a", id: "1" }] },
      { unmanaged: [{ id: "1", label: "L", declaration: "" }] },
      { pendingCreates: [{ stack: "prod", name: "a", urn: "u", matches: [], possibleMatches: [], steps: [] }] },
      { heldTwice: [{ id: "1", holders: [] }] },
    ]) {
      expect(needsAttention({ ...base, ...finding }), JSON.stringify(finding)).toBe(true);
    }
  });

  it("says how to finish other interrupted operations, naming the stack when the export does, quoted for a shell", () => {
    expect(otherPendingSteps({ stackRef: "prod", type: "updating" })).toStrictEqual([
      "an interrupted updating operation: run `pulumi refresh --stack prod`",
    ]);
    expect(otherPendingSteps({ stackRef: "acme/p/prod", type: "reading" })).toStrictEqual([
      "an interrupted reading operation: run `pulumi refresh --stack acme/p/prod`",
    ]);
    expect(otherPendingSteps({ stackRef: "", type: "deleting" })).toStrictEqual([
      "an interrupted deleting operation: run `pulumi refresh`",
    ]);
    expect(otherPendingSteps({ stackRef: "a b;$(x)'s", type: "updating" })).toStrictEqual([
      "an interrupted updating operation: run `pulumi refresh --stack 'a b;$(x)'\\''s'`",
    ]);
  });

  it("quotes a word for a shell only when a shell would read it otherwise", () => {
    for (const word of ["prod", "acme/p/prod", "a.b_c-d", "x@y:z=w+v"]) expect(shellArg(word)).toBe(word);
    expect(shellArg("")).toBe("''");
    expect(shellArg("a b")).toBe("'a b'");
    expect(shellArg("it's")).toBe("'it'\\''s'");
    for (const c of [...'$`"!*?[]{}()<>|&;~#%^ \t\n']) expect(shellArg(`a${c}b`), JSON.stringify(c)).toBe(`'a${c}b'`);
  });

  it("renders every finding class in full", () => {
    const unmanaged = auditPlace({ onBehalfOf: "sub" }, stateOf([]), [
      live("u1", { label: "Made in UI", onBehalfOf: "sub" }),
    ]);
    const report: AuditReport = {
      clean: false,
      stacks: ["prod", "staging"],
      groups: [
        {
          inSync: [{ stack: "prod", name: "a", id: "1" }],
          drifted: [
            {
              stack: "prod",
              name: "b",
              id: "2",
              fields: [{ field: "label", state: "L", live: "M" }, { field: "properties.writeKey" }],
            },
          ],
          gone: [{ stack: "prod", name: "c", id: "3" }],
          heldTwice: [
            {
              id: "7",
              holders: [
                { stack: "prod", name: "x", urn: "urn:x" },
                { stack: "staging", name: "y", urn: "urn:y" },
              ],
            },
          ],
          unmanaged: [],
          pendingCreates: [
            { stack: "prod", name: "d", urn: "u", matches: [], possibleMatches: [], steps: ["first", "second"] },
            { stack: "prod", name: "e", urn: "u", matches: ["4", "5"], possibleMatches: [], steps: ["only"] },
            { stack: "prod", name: "f", urn: "u", matches: [], possibleMatches: ["6", "7"], steps: ["check"] },
            { stack: "prod", name: "g", urn: "u", matches: ["8"], possibleMatches: ["9"], steps: ["adopt"] },
          ],
        },
        unmanaged,
        {
          account: "eu",
          error: "no key",
          inSync: [],
          drifted: [],
          gone: [],
          heldTwice: [],
          unmanaged: [],
          pendingCreates: [],
        },
        { account: "empty", inSync: [], drifted: [], gone: [], heldTwice: [], unmanaged: [], pendingCreates: [] },
      ],
      otherPending: [{ urn: "urn:x", type: "updating", stack: "staging", steps: ["one", "two"] }],
    };
    expect(renderAudit(report)).toBe(
      [
        "default account, parent:",
        "  in sync       a (1), stack prod",
        '  drifted       b (2), stack prod: label "L" → "M"; properties.writeKey. `pulumi refresh` shows it; `pulumi up` restores the program\'s values',
        "  gone          c (3), stack prod: in state, not in SendGrid. `pulumi refresh` drops it; `pulumi up` then creates it again",
        "  pending create d, stack prod: an interrupted `pulumi up` may have created it; no live match. To recover:",
        "    1. first",
        "    2. second",
        "  pending create e, stack prod: an interrupted `pulumi up` may have created it; live matches: 4, 5. To recover:",
        "    1. only",
        "  pending create f, stack prod: an interrupted `pulumi up` may have created it; no proven live match; possible matches, not proven: 6, 7. To recover:",
        "    1. check",
        "  pending create g, stack prod: an interrupted `pulumi up` may have created it; live matches: 8; possible matches, not proven: 9. To recover:",
        "    1. adopt",
        "  held twice    7: managed by x (stack prod) and y (stack staging); a destroy of either deletes it for all. Keep it in one: `pulumi state delete '<urn>'` in the others (urn:x, urn:y)",
        'default account, subuser "sub":',
        '  unmanaged     "Made in UI" (u1): live, not in these stacks\' state. Adopt it with:',
        '    const subMadeInUi = new SegmentIntegration("sub-made-in-ui", {',
        '      importId: "u1",',
        '      label: "Made in UI",',
        '      onBehalfOf: "sub",',
        '      filters: { emailEvents: ["open"] },',
        '      properties: { writeKey: cfg.requireSecret("subMadeInUiWriteKey"), destinationRegion: "US" },',
        "    });",
        "    (or delete it in SendGrid: it counts toward the limit of 10)",
        'account "eu", parent:',
        "  not checked: no key",
        'account "empty", parent:',
        "  nothing here",
        "pending updating urn:x, stack staging: one; two",
        "Needs attention: see above.",
        "",
      ].join("\n"),
    );
    expect(renderAudit({ clean: true, stacks: ["prod"], groups: [inSyncOnly()], otherPending: [] })).toBe(
      "default account, parent:\n  in sync       a (1)\nClean: state and SendGrid agree.\n",
    );
    const unreadable = { ...inSyncOnly(), inSync: [], error: "HTTP 401" };
    expect(renderAudit({ clean: false, stacks: [], groups: [unreadable], otherPending: [] })).toBe(
      "default account, parent:\n  not checked: HTTP 401\n" +
        "Nothing was checked: no account or subuser could be read (see above), so this says nothing about SendGrid.\n",
    );
  });
});

// Issue 23, item 3: "the same integration" only on visible fields. A pending create whose write key
// the export holds encrypted (no --show-secrets), or whose live twin's key SendGrid masks or leaves
// out, is never matched on it: adopting PATCHes every field, the write key included, so a wrong
// match would take over another Segment source's integration.
describe("audit: a pending create matches only on fields both sides show (issue 23)", () => {
  const DECLARED_KEY = "wk_declared_source_abcd";
  const OTHER_KEY = "wk_another_segment_source_9999";
  const DUPLICATE = "instead of creating a duplicate";
  const pendingIn = (properties: unknown, door: DoorName = "dynamic") =>
    parseStackExport(
      stackExport([], [{ name: "events", label: "Events", events: ["open"], properties }], [], { door }),
    );
  const liveOne = (id: string, writeKey: string | undefined, region?: "US" | "EU"): LiveIntegration => ({
    integrationId: id,
    userId: "1",
    label: "Events",
    destination: "Segment",
    filters: { emailEvents: ["open"] },
    properties: region ? { destinationRegion: region } : {},
    ...(writeKey !== undefined ? { writeKey } : {}),
  });
  const recovery = (state: StackState, live: LiveIntegration[]) => {
    const group = auditPlace({}, state, live);
    expect(group.pendingCreates).toHaveLength(1);
    return { group, pending: group.pendingCreates[0]! };
  };

  it("encrypted properties, another source's key, region EU: not a match", () => {
    // The whole of `properties` encrypted (the usual export): neither key nor region can be compared.
    const whole = recovery(pendingIn(encrypted), [liveOne("other-source-1", OTHER_KEY, "EU")]);
    expect(whole.pending).toMatchObject({ matches: [], possibleMatches: ["other-source-1"] });
    expect(whole.pending.steps.join("\n")).not.toContain(DUPLICATE);
    // Adopting it is advised only on condition: never as the way out.
    expect(whole.pending.steps[2]).toMatch(
      /^only if its write key is the one "events" declares: add `importId: "other-source-1"`/,
    );
    // The key encrypted, the region shown (US): a region that visibly differs rules it out altogether.
    const regionShown = recovery(pendingIn({ writeKey: encrypted, destinationRegion: "US" }, "native"), [
      liveOne("other-source-1", OTHER_KEY, "EU"),
    ]);
    expect(regionShown.pending).toMatchObject({ matches: [], possibleMatches: [] });
    expect(regionShown.pending.steps[1]).toBe(
      'nothing was created in SendGrid; `pulumi up --stack prod` creates "events"',
    );
    expect(regionShown.group.unmanaged.map((u) => u.id)).toStrictEqual(["other-source-1"]);
  });

  it("encrypted key, the same region: a possible candidate, with the advice to check the key before adopting", () => {
    const live = [liveOne("other-source-1", OTHER_KEY, "EU")];
    for (const door of ["dynamic", "native"] as const) {
      const { group, pending } = recovery(pendingIn({ writeKey: encrypted, destinationRegion: "EU" }, door), live);
      expect(pending.matches).toStrictEqual([]);
      expect(pending.possibleMatches).toStrictEqual(["other-source-1"]);
      const steps = pending.steps.join("\n");
      expect(steps).toContain("check the write key in SendGrid");
      expect(steps).toContain("pulumi stack export --show-secrets");
      expect(steps).not.toContain(DUPLICATE);
      // Reported under the pending create, not also as unmanaged.
      expect(group.unmanaged).toStrictEqual([]);
    }
    // The whole of `properties` encrypted: the region cannot be compared either, and the advice says so.
    const { pending } = recovery(pendingIn(encrypted), live);
    expect(pending).toMatchObject({ matches: [], possibleMatches: ["other-source-1"] });
    expect(pending.steps.join("\n")).toContain("check the write key and region in SendGrid");
  });

  it("a masked live key against a declared one: possible, not a match; a mask that does not fit rules it out", () => {
    const state = pendingIn(plaintext({ writeKey: DECLARED_KEY, destinationRegion: "US" }));
    const { pending } = recovery(state, [
      liveOne("masked", "****abcd", "US"),
      liveOne("missing", undefined, "US"),
      liveOne("misfit", "****wxyz", "US"),
    ]);
    expect(pending.matches).toStrictEqual([]);
    expect(pending.possibleMatches).toStrictEqual(["masked", "missing"]);
    const steps = pending.steps.join("\n");
    expect(steps).toContain("check the write key in SendGrid");
    expect(steps).not.toContain("--show-secrets"); // the export shows it: SendGrid is what hides it
    expect(steps).not.toContain(DUPLICATE);
  });

  it("both keys shown and equal: a match, adopted as before", () => {
    const state = pendingIn(plaintext({ writeKey: DECLARED_KEY, destinationRegion: "US" }));
    const { group, pending } = recovery(state, [
      liveOne("same", DECLARED_KEY, "US"),
      liveOne("other", OTHER_KEY, "US"),
    ]);
    expect(pending).toStrictEqual({
      stack: PROD,
      name: "events",
      urn: urn("events"),
      matches: ["same"],
      possibleMatches: [],
      steps: [
        "pulumi refresh --clear-pending-creates --stack prod: drop the pending create from state (the CLI cannot import it for a dynamic resource)",
        `add \`importId: "same"\` to the declaration of "events", then \`pulumi up --stack prod\`: it adopts that integration ${DUPLICATE}`,
      ],
    });
    expect(group.unmanaged.map((u) => u.id)).toStrictEqual(["other"]);
  });

  it("through the command: JSON keeps `matches` and adds `possibleMatches`; the text says it is not proven", async () => {
    const id = seed(global, "Events", ["open"], OTHER_KEY);
    const state = stackExport([], [{ name: "events", label: "Events", events: ["open"] }]);
    const { json, code } = await audit(state, "--json");
    expect(code).toBe(2);
    expect(json.groups[0].pendingCreates[0]).toMatchObject({ matches: [], possibleMatches: [id] });
    const { stdout } = await audit(state);
    expect(stdout).toContain(`no proven live match; possible matches, not proven: ${id}. To recover:`);
    expect(stdout).not.toContain(DUPLICATE);
    expect(stdout).not.toContain(OTHER_KEY);
  });
});
