#!/usr/bin/env node
/**
 * `npx pulumi-sendgrid-segment <command>`: `import` prints a Pulumi program adopting an account's
 * live integrations; `audit` compares a stack's state with what is live. Arguments are parsed by
 * commander (well kept, no dependencies, --help). Settings follow the provider's rules, with
 * flags in place of stack config; API keys come only from the environment (never a flag, so they
 * stay out of shell history): SENDGRID_API_KEY, or SENDGRID_ACCOUNT_<NAME>_API_KEY with --account.
 * Progress goes to stderr, results to stdout; every error names the flag or variable it came from.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { Command, Option } from "commander";
import {
  ACCOUNT_NAME,
  accountEnvPrefix,
  accountExists,
  describeText,
  type Field,
  resolveSettings,
  type Settings,
} from "../provider/config";
import { listLive, type SegmentIntegrationInfo } from "../provider/list";
import { PACKAGE_NAME, PACKAGE_VERSION } from "../provider/package";
import {
  type AuditReport,
  auditPlace,
  mergeStates,
  needsAttention,
  otherPendingSteps,
  type Place,
  parseStackExport,
  placesOf,
  type ReadExport,
  renderAudit,
  unassignedProvider,
} from "./audit";
import { renderProgram } from "./generate";
import { jsonText, safeText, shown, term } from "./terminal";

/** The commands' retry budget unless --retry-budget-ms or SENDGRID_RETRY_BUDGET_MS says otherwise. */
export const CLI_RETRY_BUDGET_MS = 10_000;
/**
 * The commands' time per attempt unless SENDGRID_REQUEST_TIMEOUT_MS says otherwise: with the retry
 * budget, an API that accepts connections and never answers fails within about 15 s.
 */
export const CLI_REQUEST_TIMEOUT_MS = 5_000;

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  stdin: () => string;
  /** Whether standard input is a terminal (nothing piped in). */
  stdinIsTTY: () => boolean;
  /** The command's exit code when it does not fail outright (audit: 0 clean, 2 attention, 1 error). */
  exit: (code: number) => void;
}

interface ApiOptions {
  account?: string[];
  region?: string;
  apiBaseUrl?: string;
  retryBudgetMs?: string;
}

const FLAGS: Partial<Record<Field, string>> = {
  region: "--region",
  apiBaseUrl: "--api-base-url",
  retryBudgetMs: "--retry-budget-ms",
};

/** Settings for one account ("" or undefined: the default), flags first, then the environment. */
function settingsFor(options: ApiOptions, account: string | undefined, env: NodeJS.ProcessEnv): Settings {
  const flags: Record<string, string | undefined> = {
    "--region": options.region,
    "--api-base-url": options.apiBaseUrl,
    "--retry-budget-ms": options.retryBudgetMs,
  };
  const prefix = account ? accountEnvPrefix(account) : "SENDGRID_";
  // The account may come from a stack export: shown escaped, like every name from outside.
  const noKey = () =>
    new Error(
      `no API key${account ? term` for account "${account}"` : ""}: set ${shown(prefix)}API_KEY` +
        (account ? term` (and ${prefix}REGION or ${prefix}API_BASE_URL as needed)` : ""),
    );
  // The commands read no stack config: an account they cannot find is one whose variables are unset.
  if (account !== undefined && !accountExists(account, () => undefined, env)) throw noKey();
  const settings = resolveSettings((key) => flags[key], env, account, FLAGS);
  if (options.retryBudgetMs === undefined && !env[`${prefix}RETRY_BUDGET_MS`])
    settings.retryBudgetMs = CLI_RETRY_BUDGET_MS;
  if (!env[`${prefix}REQUEST_TIMEOUT_MS`]) settings.requestTimeoutMs = CLI_REQUEST_TIMEOUT_MS;
  if (!settings.apiKey) throw noKey();
  return settings;
}

const describePlace = (account: string | undefined, onBehalfOf: string | undefined) =>
  `${account ? term`account "${account}"` : "the default account"}${onBehalfOf ? term`, subuser "${onBehalfOf}"` : ""}`;

async function read(io: Io, settings: Settings, account: string | undefined, onBehalfOf: string | undefined) {
  io.err(`reading the integrations of ${describePlace(account, onBehalfOf)} from ${shown(settings.baseUrl)} ...\n`);
  const live = await listLive(settings, onBehalfOf);
  io.err(`  ${live.length} found\n`);
  return live;
}

const accountOption = () =>
  new Option(
    "--account <name...>",
    "a named account: its key from SENDGRID_ACCOUNT_<NAME>_API_KEY (and _REGION, _API_BASE_URL)",
  ).argParser((value: string, previous: string[] | undefined) => {
    if (!ACCOUNT_NAME.test(value)) {
      throw new Error(
        `--account (${describeText(value)}): 1 to 64 letters, digits, '-' or '_', starting with a letter`,
      );
    }
    return [...(previous ?? []), value];
  });

function apiOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--region <region>", "global or eu (default: SENDGRID_REGION, else global)").choices(["global", "eu"]),
    )
    .addOption(new Option("--api-base-url <url>", "override the API host (default: SENDGRID_API_BASE_URL)"))
    .addOption(
      new Option(
        "--retry-budget-ms <ms>",
        `how long one API call may keep retrying (default: SENDGRID_RETRY_BUDGET_MS, else ${CLI_RETRY_BUDGET_MS})`,
      ),
    );
}

export function buildCli(io: Partial<Io> = {}): Command {
  const all: Io = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    env: process.env,
    stdin: () => readFileSync(0, "utf8"),
    stdinIsTTY: () => process.stdin.isTTY === true,
    exit: (code) => {
      process.exitCode = code;
    },
    ...io,
  };
  // The last guard: whatever reaches the terminal has no character it could act on but line feeds.
  // Every value from outside is escaped where it is put into a message, line feeds too (`term`).
  const toOut = all.out;
  const toErr = all.err;
  all.out = (text) => toOut(safeText(text));
  all.err = (text) => toErr(safeText(text));
  const { out, err, env, stdin, stdinIsTTY, exit } = all;
  const cli = new Command()
    .name(PACKAGE_NAME)
    .usage("<command> [options]")
    .description("Manage SendGrid email-event forwarding to Segment with Pulumi.")
    .version(PACKAGE_VERSION)
    .configureOutput({ writeOut: out, writeErr: err })
    .exitOverride();

  const importCommand = cli
    .command("import")
    .usage("[options] --out index.ts   (or: ... > index.ts)")
    .description(
      "Read live Segment integrations and print a Pulumi TypeScript program that adopts each one with importId, " +
        "with the `pulumi config set --secret` lines for their write keys (never the keys).",
    )
    .addOption(accountOption())
    .addOption(new Option("--on-behalf-of <subuser...>", "read these subusers' integrations instead of the parent's"))
    .addOption(new Option("--with-parent", "with --on-behalf-of: read the parent's integrations too"))
    .addOption(
      new Option(
        "--out <file>",
        "write the program to this file, only once everything was read (default: standard output)",
      ),
    );
  apiOptions(importCommand)
    .addHelpText(
      "after",
      "\nThe API key is read from SENDGRID_API_KEY (with --account <name>: SENDGRID_ACCOUNT_<NAME>_API_KEY).\n\n" +
        "Example:\n  SENDGRID_API_KEY=SG.xxx npx pulumi-sendgrid-segment import --on-behalf-of marketing-eu --out index.ts\n",
    )
    .action(async (options: ApiOptions & { onBehalfOf?: string[]; withParent?: boolean; out?: string }) => {
      const subusers: Array<string | undefined> = options.onBehalfOf?.length
        ? [...(options.withParent ? [undefined] : []), ...options.onBehalfOf]
        : [undefined];
      const found: SegmentIntegrationInfo[] = [];
      for (const account of options.account ?? [undefined]) {
        const settings = settingsFor(options, account, env);
        for (const onBehalfOf of subusers) {
          found.push(...(await read(all, settings, account, onBehalfOf)).map((l) => l.info));
        }
      }
      const program = renderProgram(found);
      if (options.out === undefined) return out(program);
      // A whole file or none: written beside the target, then renamed over it.
      const partial = `${options.out}.${process.pid}.partial`;
      try {
        writeFileSync(partial, program);
        renameSync(partial, options.out);
      } catch (error) {
        rmSync(partial, { force: true });
        throw new Error(
          term`--out ${options.out}: cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        );
      }
      err(`wrote ${found.length} declaration${found.length === 1 ? "" : "s"} to ${shown(options.out)}\n`);
    });

  const auditCommand = cli
    .command("audit")
    .usage("[options] [--file state.json ...]   (or: pulumi stack export | pulumi-sendgrid-segment audit)")
    .description(
      "Compare stacks' state (`pulumi stack export`) with the live integrations of every account and subuser " +
        "they mention, and of the default account when SENDGRID_API_KEY is set: in sync, drifted, gone, held by " +
        "two resources, not in these stacks' state (with an importId declaration), and pending creates left by an " +
        "interrupted `pulumi up` (with the recovery steps). Exit code 0: clean; 2: needs attention; 1: error, or " +
        "nothing could be checked.",
    )
    .addOption(
      new Option(
        "--file <path>",
        "a stack export to read; repeat it for every stack that shares the accounts (default: standard input)",
      ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
    )
    .addOption(accountOption())
    .addOption(
      new Option("--on-behalf-of <subuser...>", "also check these subusers (of each --account, or the default)"),
    )
    .addOption(
      new Option(
        "--provider <name=account>",
        "the account of the plugin's explicit provider <name> (its key from SENDGRID_ACCOUNT_<ACCOUNT>_API_KEY; " +
          "default: SENDGRID_API_KEY); repeat it for each",
      ).argParser((value: string, previous: Map<string, string> | undefined) => {
        const [, name, account] = /^([^=]+)=(.*)$/.exec(value) ?? [];
        if (!name || !account || (account !== "default" && !ACCOUNT_NAME.test(account))) {
          throw new Error(
            term`--provider ${value}: expected <provider name>=<account>, the account 1 to 64 letters, digits, '-' or '_', starting with a letter, or "default"`,
          );
        }
        return new Map(previous ?? []).set(name, account);
      }),
    )
    .addOption(new Option("--json", "print the report as JSON"));
  apiOptions(auditCommand)
    .addHelpText(
      "after",
      "\nKeys come from SENDGRID_API_KEY (the default account) and SENDGRID_ACCOUNT_<NAME>_API_KEY (each named\n" +
        "account that state mentions). Use `pulumi stack export --show-secrets` to compare regions and write\n" +
        "keys too; write keys are never printed.\n",
    )
    .action(
      async (
        options: ApiOptions & {
          file?: string[];
          onBehalfOf?: string[];
          json?: boolean;
          provider?: Map<string, string>;
        },
      ) => {
        const exports: { from: string; text: string }[] = [];
        for (const file of options.file ?? []) {
          try {
            exports.push({ from: `--file ${file}`, text: readFileSync(file, "utf8") });
          } catch (error) {
            throw new Error(
              term`--file ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
            );
          }
        }
        if (exports.length === 0) {
          if (stdinIsTTY()) {
            throw new Error(
              "no stack export: pipe one in (`pulumi stack export | npx pulumi-sendgrid-segment audit`) or pass --file <path>",
            );
          }
          exports.push({ from: "standard input", text: stdin() });
        }
        const states: ReadExport[] = exports.map(({ from, text }) => {
          try {
            return { from, state: parseStackExport(text) };
          } catch (error) {
            throw new Error(term`${from}: ${(error as Error).message}`);
          }
        });
        const { stacks, ...state } = mergeStates(states);
        const providers = options.provider ?? new Map<string, string>();
        const extra: Place[] = [];
        for (const account of options.account ?? [undefined]) {
          for (const onBehalfOf of options.onBehalfOf ?? [undefined]) {
            extra.push({ ...(account ? { account } : {}), ...(onBehalfOf ? { onBehalfOf } : {}) });
          }
        }
        const named = options.account?.length || options.onBehalfOf?.length ? extra : [];
        // The default account's parent is always read when its key is set: live integrations in no
        // stack are found even when no stack (or only subusers) mentions it.
        if (env.SENDGRID_API_KEY) named.push({});
        const report: AuditReport = { clean: true, stacks, groups: [], otherPending: [] };
        for (const place of placesOf(state, named, providers)) {
          try {
            if (place.provider !== undefined) throw new Error(unassignedProvider(place.provider));
            const settings = settingsFor(options, place.account, env);
            const live = await read(all, settings, place.account, place.onBehalfOf);
            report.groups.push(
              auditPlace(
                place,
                state,
                live.map((l) => ({ ...l.info, ...(l.writeKey !== undefined ? { writeKey: l.writeKey } : {}) })),
                providers,
              ),
            );
          } catch (error) {
            const none = { inSync: [], drifted: [], gone: [], heldTwice: [], unmanaged: [], pendingCreates: [] };
            report.groups.push({ ...place, error: (error as Error).message, ...none });
          }
        }
        report.otherPending = state.otherPending.map(({ urn, type, stack, stackRef }) => ({
          urn,
          type,
          stack,
          steps: otherPendingSteps({ type, stackRef }),
        }));
        if (report.groups.length === 0) {
          throw new Error(
            "nothing to check: the stack export has no SegmentIntegration and no account was named; set " +
              "SENDGRID_API_KEY to read the default account, or pass --account / --on-behalf-of",
          );
        }
        const checked = report.groups.some((g) => !g.error);
        report.clean = checked && report.groups.every((g) => !needsAttention(g)) && report.otherPending.length === 0;
        out(options.json ? jsonText(report) : renderAudit(report));
        exit(report.groups.some((g) => g.error) ? 1 : report.clean ? 0 : 2);
      },
    );
  return cli;
}

/** The line a failed command ends with: the message as data, on one line. */
export const errorLine = (error: Error): string => `${PACKAGE_NAME}: ${shown(error.message)}\n`;

if (require.main === module) {
  buildCli()
    .parseAsync(process.argv)
    .catch((error: Error & { code?: string; exitCode?: number }) => {
      // commander has already printed its own usage errors (and --help, --version).
      if (error.code?.startsWith("commander.")) process.exit(error.exitCode ?? 1);
      process.stderr.write(errorLine(error));
      process.exit(1);
    });
}
