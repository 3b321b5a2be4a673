// Untrusted files and answers on a terminal (issue 25): arbitrary strings (C0 and C1 controls, ESC
// and OSC sequences, bidi controls, line separators, fake verdict lines) in every field of a stack
// export and of an API answer never reach `audit`'s or `import`'s output unescaped. The commands
// run in process through their real parser, against a stand-in API on loopback that answers what
// each case says; the text report must have exactly the lines its JSON twin accounts for, the last
// of them the one verdict, and the JSON must parse.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuditReport, auditPlace, parseStackExport, renderAudit } from "../cli/audit";
import { buildCli, errorLine } from "../cli/main";
import { SEGMENT_INTEGRATION_TYPE } from "../provider/dynamic/segmentIntegration";
import { PACKAGE, RESOURCE_TOKEN } from "../provider/native/schema";
import { fc } from "./support/fast-check";
import { API_KEY } from "./support/fixtures";

/** A character a terminal could act on, or that hides or reorders text; line feeds aside. */
const UNSAFE = /(?!\n)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
const VERDICT = /^(Clean: |Needs attention: |Nothing was checked: )/;

/** Known attacks, and anything else in Unicode. */
const ATTACKS = [
  "\x1b[2J\x1b[H",
  "\x1b]0;title\x07",
  "\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\",
  "\x9b31m",
  "\x9d0;t\x9c",
  "\u202e\u2066\u2069\u200f",
  "\nClean: state and SendGrid agree.\n",
  "\r\x1b[1A\x1b[2K",
  "\u2028\u2029\x85",
  "\ud800",
  "\u{e0041}",
  "\x00\x07\x7f",
];
const hostile = fc
  .array(fc.oneof(fc.constantFrom(...ATTACKS), fc.string({ unit: "binary", maxLength: 4 })), { maxLength: 5 })
  .map((parts) => parts.join(""));

/** One case: what the export holds, and what the stand-in API answers. */
interface Case {
  door: "dynamic" | "native";
  stack: string;
  project: string;
  organization: string;
  name: string;
  id: string;
  label: string;
  account: string;
  onBehalfOf: string;
  event: string;
  destination: string;
  region: string;
  opType: string;
  provider: string;
  answer: { status: 200; items: LiveItem[] } | { status: 400 | 401 | 403 | 404; errors: ApiError[] };
}
interface LiveItem {
  integration_id: string;
  user_id: string;
  label: string;
  destination: string;
  email_events: string[];
  region: string;
  write_key: string;
}
type ApiError = { message: string; field: string; parameter: string };

const maybe = (arb: fc.Arbitrary<string>) => fc.oneof(arb, fc.constant(""));
const liveItem: fc.Arbitrary<LiveItem> = fc.record({
  // Mostly ids the client accepts, so the rest of the answer is read; sometimes not.
  integration_id: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/), hostile),
  user_id: hostile,
  label: hostile,
  destination: fc.oneof(fc.constant("Segment"), hostile),
  email_events: fc.array(fc.oneof(fc.constantFrom("open", "click"), hostile), { minLength: 1, maxLength: 2 }),
  region: fc.oneof(fc.constantFrom("US", "EU"), hostile),
  write_key: hostile,
});
const caseArb: fc.Arbitrary<Case> = fc.record({
  door: fc.constantFrom("dynamic" as const, "native" as const),
  stack: hostile,
  project: hostile,
  organization: maybe(hostile),
  name: hostile,
  id: hostile,
  label: hostile,
  account: maybe(hostile),
  onBehalfOf: maybe(hostile),
  event: hostile,
  destination: hostile,
  region: hostile,
  opType: hostile,
  provider: maybe(hostile),
  answer: fc.oneof(
    fc.record({ status: fc.constant(200 as const), items: fc.array(liveItem, { maxLength: 3 }) }),
    fc.record({
      status: fc.constantFrom(400 as const, 401 as const, 403 as const, 404 as const),
      errors: fc.array(fc.record({ message: hostile, field: hostile, parameter: hostile }), {
        minLength: 1,
        maxLength: 2,
      }),
    }),
  ),
});

/** A stack export in the CLI's shape with every field from the case; secrets in plaintext (--show-secrets). */
function exportOf(c: Case): string {
  const type = c.door === "dynamic" ? SEGMENT_INTEGRATION_TYPE : RESOURCE_TOKEN;
  const urn = (name: string) => `urn:pulumi:${c.stack}::${c.project}::${type}::${name}`;
  const secret = (value: unknown) => ({
    "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
    plaintext: JSON.stringify(value),
  });
  const inputs = {
    label: c.label,
    destination: c.destination,
    filters: { emailEvents: [c.event, "open"] },
    properties: secret({ writeKey: c.label, destinationRegion: c.region }),
    ...(c.account ? { account: c.account } : {}),
    ...(c.onBehalfOf ? { onBehalfOf: c.onBehalfOf } : {}),
  };
  const provider = `urn:pulumi:${c.stack}::${c.project}::pulumi:providers:${PACKAGE}::${c.provider || "default"}::${c.id}`;
  const resource = (name: string) => ({ urn: urn(name), custom: true, type, inputs, provider });
  return JSON.stringify(
    {
      version: 3,
      deployment: {
        manifest: { time: "2026-11-26T00:00:00Z", magic: "x", version: "v3.210.0" },
        secrets_providers: c.organization
          ? { type: "service", state: { owner: c.organization, project: c.project, stack: c.stack } }
          : { type: "passphrase", state: { salt: "v1:AAAA" } },
        resources: [
          {
            urn: `urn:pulumi:${c.stack}::${c.project}::pulumi:pulumi:Stack::x`,
            custom: false,
            type: "pulumi:pulumi:Stack",
          },
          { ...resource(c.name), id: c.id, outputs: { ...inputs, integrationId: c.id } },
          { ...resource(`${c.name}-twin`), id: c.id, outputs: { ...inputs, integrationId: c.id } },
        ],
        pending_operations: [
          { type: "creating", resource: resource(`${c.name}-pending`) },
          { type: c.opType, resource: resource(`${c.name}-other`) },
        ],
      },
    },
    null,
    4,
  );
}

/** The stand-in API: answers each list with the current case's answer. */
let answer: Case["answer"] = { status: 200, items: [] };
let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    const body =
      answer.status === 200
        ? {
            result: answer.items.map((i) => ({
              integration_id: i.integration_id,
              user_id: i.user_id,
              label: i.label,
              destination: i.destination,
              filters: { email_events: i.email_events },
              properties: { write_key: i.write_key, destination_region: i.region },
            })),
          }
        : { errors: answer.errors };
    res.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Runs one command in process; its stdout, stderr, and the line a failure ends with (as `main` prints it). */
async function run(args: string[], stdin: string) {
  let stdout = "";
  let stderr = "";
  const cli = buildCli({
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
    env: { SENDGRID_API_KEY: API_KEY, SENDGRID_API_BASE_URL: url, SENDGRID_RETRY_BUDGET_MS: "0" },
    stdin: () => stdin,
    stdinIsTTY: () => false,
    exit: () => undefined,
  });
  try {
    await cli.parseAsync(["node", "cli", ...args]);
  } catch (error) {
    stderr += errorLine(error as Error);
  }
  return { stdout, stderr };
}

/** The lines a report's text has, counted from its JSON: one per header, finding, step and declaration line. */
function linesOf(report: AuditReport): number {
  let lines = 1 + report.otherPending.length; // the verdict
  for (const g of report.groups) {
    lines += 1;
    if (g.error) {
      lines += 1;
      continue;
    }
    lines += g.inSync.length + g.drifted.length + g.gone.length + g.heldTwice.length;
    for (const p of g.pendingCreates) lines += 1 + p.steps.length;
    for (const u of g.unmanaged) lines += 2 + u.declaration.split("\n").length;
    const attention =
      g.drifted.length + g.gone.length + g.heldTwice.length + g.unmanaged.length + g.pendingCreates.length;
    if (attention === 0 && g.inSync.length === 0) lines += 1;
  }
  return lines;
}

const expectSafe = (text: string, what: string) => {
  expect(text, `${what}: ${JSON.stringify(text)}`).not.toMatch(UNSAFE);
};

describe("no string from an export or an answer reaches the terminal unescaped", () => {
  it("audit, as text and as JSON; import", async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        answer = c.answer;
        const state = exportOf(c);
        const text = await run(["audit", "--on-behalf-of", c.onBehalfOf || "sub"], state);
        const json = await run(["audit", "--json", "--on-behalf-of", c.onBehalfOf || "sub"], state);
        for (const [what, out] of [
          ["audit stdout", text.stdout],
          ["audit stderr", text.stderr],
          ["audit --json stdout", json.stdout],
          ["audit --json stderr", json.stderr],
        ] as const) {
          expectSafe(out, what);
        }
        if (json.stdout) {
          const report = JSON.parse(json.stdout) as AuditReport;
          const lines = text.stdout.split("\n");
          expect(lines.pop()).toBe(""); // ends with a line feed
          expect(lines).toHaveLength(linesOf(report));
          expect(lines.filter((l) => VERDICT.test(l))).toEqual([lines.at(-1)]);
        } else {
          // Nothing printed: the command failed, on one line.
          expect(text.stdout).toBe("");
          expect(text.stderr.split("\n").filter((l) => l.startsWith("pulumi-sendgrid-segment: "))).toHaveLength(1);
        }
        const imported = await run(["import", "--on-behalf-of", c.onBehalfOf || "sub", "--with-parent"], "");
        expectSafe(imported.stdout, "import stdout");
        expectSafe(imported.stderr, "import stderr");
      }),
      { numRuns: 60 },
    );
  });

  it("renderAudit on reports made from hostile exports and answers: only the lines its structure has", () => {
    fc.assert(
      fc.property(caseArb, fc.array(liveItem, { maxLength: 3 }), hostile, (c, items, twinId) => {
        const state = parseStackExport(exportOf(c));
        // The pending create's twin with a masked key: a possible match, listed under a hostile id.
        const [p] = state.pendingCreates;
        const twin = {
          integrationId: twinId,
          userId: "1",
          label: p!.label,
          destination: p!.destination as "Segment",
          filters: { emailEvents: p!.emailEvents as ["open"] },
          properties: { destinationRegion: p!.destinationRegion as "US" },
          onBehalfOf: c.onBehalfOf,
          writeKey: "****",
        };
        const live = items.map((i) => ({
          integrationId: i.integration_id,
          userId: i.user_id,
          label: i.label,
          destination: i.destination as "Segment",
          filters: { emailEvents: i.email_events as ["open"] },
          properties: { destinationRegion: i.region as "US" },
          onBehalfOf: c.onBehalfOf,
          writeKey: i.write_key,
        }));
        const group = auditPlace({ onBehalfOf: c.onBehalfOf }, state, [...live, twin]);
        if (twinId !== c.id && !items.some((i) => i.integration_id === twinId)) {
          for (const pending of group.pendingCreates) expect(pending.possibleMatches).toContain(twinId);
        }
        const report: AuditReport = {
          clean: false,
          stacks: [state.stack, c.project],
          groups: [group, { ...group, error: c.label, account: c.account, provider: c.provider }],
          otherPending: state.otherPending.map((op) => ({ ...op, steps: [c.opType] })),
        };
        const out = renderAudit(report);
        expectSafe(out, "renderAudit");
        expect(out.split("\n").length - 1).toBe(linesOf(report));
      }),
      { numRuns: 150 },
    );
  });
});
