// The README and CONTRIBUTING say only true things: every shell line that needs no Pulumi CLI is
// run (the package's bins through an `npx` shim pointing at dist/, against an emulator), every npm
// script they name exists, every error code and test file is listed.
import { spawn } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_REQUEST_TIMEOUT_MS, CLI_RETRY_BUDGET_MS } from "../cli/main";
import { type Emulator, startEmulator } from "../emulator";
import { MAX_ANSWER_BYTES, MAX_CONCURRENT_CALLS } from "../provider/client";
import { DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_RETRY_BUDGET_MS } from "../provider/config";
import { MAX_DETAILS, MAX_MESSAGE_LENGTH } from "../provider/errors";
import { MAX_CREATE_ATTEMPTS } from "../provider/reconcile";
import { DEFAULT_RETRY, RATE_LIMIT_JITTER } from "../provider/retry";
import { INTEGRATION_LIMIT, STATE_VERSION } from "../provider/types";
import { linkedConsumer, REPO, rootProgramProvider } from "./support/programs";

const README = readFileSync(join(REPO, "README.md"), "utf8");
const CONTRIBUTING = readFileSync(join(REPO, "CONTRIBUTING.md"), "utf8");
const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));

/** Lines of ```sh blocks. */
const shellLines = (markdown: string) =>
  [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((m) => m[1]!.split("\n").map((l) => l.trim()))
    .filter(Boolean);

/** The README lines that need no Pulumi CLI, no clone elsewhere and no real account. */
const RUNNABLE = /^(SENDGRID_\w+=\S+ )*npx (pulumi-sendgrid-segment|sendgrid-segment-emulator)\b/;
const runnable = shellLines(README).filter((l) => RUNNABLE.test(l));

let emulator: Emulator;
let work: string;
beforeAll(async () => {
  emulator = await startEmulator();
  emulator.seed({
    label: "Made in UI",
    destination: "Segment",
    filters: { email_events: ["open"] },
    properties: { write_key: "wk_readme_1234", destination_region: "US" },
  });
  work = mkdtempSync(join(tmpdir(), "readme-"));
  const npx = join(work, "bin", "npx");
  mkdirSync(dirname(npx));
  writeFileSync(
    npx,
    `#!/bin/sh\ncase "$1" in\n` +
      Object.entries(pkg.bin as Record<string, string>)
        .map(([name, file]) => `  ${name}) shift; exec "${process.execPath}" "${join(REPO, file)}" "$@";;\n`)
        .join("") +
      `  *) echo "unexpected npx $1" >&2; exit 127;;\nesac\n`,
  );
  chmodSync(npx, 0o755);
  copyFileSync(join(REPO, "tests/fixtures/pulumi/stack-export-sample.json"), join(work, "state.json"));
  // Two stacks sharing the accounts, for the README's multi-stack audit line.
  const sample = readFileSync(join(REPO, "tests/fixtures/pulumi/stack-export-sample.json"), "utf8");
  writeFileSync(join(work, "prod.json"), sample);
  writeFileSync(join(work, "staging.json"), sample.replaceAll("urn:pulumi:prod::", "urn:pulumi:staging::"));
});
afterAll(async () => {
  await emulator.close();
  rmSync(work, { recursive: true, force: true });
});

function bash(line: string, untilListening: boolean) {
  const child = spawn("bash", ["-c", line], {
    cwd: work,
    env: {
      PATH: `${join(work, "bin")}:${dirname(process.execPath)}:/usr/bin:/bin`,
      HOME: work,
      SENDGRID_API_KEY: "SG.readme",
      SENDGRID_API_BASE_URL: emulator.url,
      SENDGRID_ACCOUNT_EU_BRAND_API_BASE_URL: emulator.url,
    },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
    if (untilListening && stdout.includes("Stop it with Ctrl-C")) child.kill("SIGINT");
  });
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once("close", (status) => resolve({ status, stdout, stderr })),
  );
}

describe("the README's shell examples that need no Pulumi CLI", () => {
  it("finds them: import, audit and the emulator", () => {
    expect(runnable.length).toBeGreaterThanOrEqual(7);
    for (const word of ["import", "audit", "sendgrid-segment-emulator --help"]) {
      expect(runnable.some((l) => l.includes(word))).toBe(true);
    }
  });

  it.each(runnable)(
    "%s",
    async (line) => {
      const long = line.includes("runs until Ctrl-C");
      const { status, stdout, stderr } = await bash(line, long);
      if (line.includes(" audit"))
        expect([0, 2]).toContain(status); // 2: the sample needs attention
      else expect({ status, stderr: status === 0 ? "" : stderr }).toEqual({ status: 0, stderr: "" });
      if (long) expect(stdout).toContain("listening on http://127.0.0.1:");
      if (line.includes("import") && line.includes("> ")) {
        const file = /> (\S+)/.exec(line)![1]!;
        expect(readFileSync(join(work, file), "utf8")).toContain("new SegmentIntegration(");
      }
    },
    30_000,
  );
});

describe("what the docs name exists", () => {
  it("every npm script they run is in package.json", () => {
    const named = [...`${README}\n${CONTRIBUTING}`.matchAll(/npm (?:run ([\w:-]+)|(start|test)\b)/g)].map(
      (m) => m[1] ?? m[2],
    );
    expect(named.length).toBeGreaterThan(5);
    for (const script of new Set(named)) expect(pkg.scripts, `npm run ${script}`).toHaveProperty(script!);
  });

  it("every error code is in the README's table", () => {
    const codes = [...readFileSync(join(REPO, "provider/errors.ts"), "utf8").matchAll(/"(ERR_SENDGRID_\w+)"/g)].map(
      (m) => m[1],
    );
    expect(new Set(codes).size).toBeGreaterThanOrEqual(8);
    for (const code of codes) expect(README).toContain(`\`${code}\``);
  });

  it("every test file is in CONTRIBUTING's list of layers", () => {
    for (const file of readdirSync(join(REPO, "tests")).filter((f) => f.endsWith(".test.ts"))) {
      expect(CONTRIBUTING, file).toContain(`\`${file}\``);
    }
  });

  it("every configuration setting the provider reads is in the README", () => {
    for (const setting of ["apiKey", "region", "apiBaseUrl", "requestTimeoutMs", "retryBudgetMs", "accounts"]) {
      expect(README).toContain(`\`sendgrid:${setting}\``);
    }
  });
});

describe("the README's TypeScript programs compile as `pulumi new typescript` sets them up", () => {
  // Blocks that are whole programs (they start with an import); fragments, and the block showing
  // the ES-module and CommonJS forms side by side, are not compiled.
  // The plugin's TypeScript program uses the SDK `pulumi package add` generates: languages.test.ts
  // checks it against the schema instead.
  const programs = [...README.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .filter((b) => b.startsWith("import") && !b.includes("require(") && !b.includes("@pulumi-sendgrid-segment/sdk"));

  it("there are such programs (the first example, the list functions, the emulator)", () => {
    expect(programs.length).toBeGreaterThanOrEqual(3);
  });

  it("each compiles with that tsconfig (CommonJS, node resolution, strict): no top-level await", () => {
    const consumer = linkedConsumer(join(REPO, "examples", "basic"));
    try {
      const files = programs.map((text, i) => {
        const file = join(consumer.dir, `readme-${i}.ts`);
        writeFileSync(file, text);
        return file;
      });
      // `pulumi new typescript`'s tsconfig.json (its compilerOptions, as the template writes them).
      const options: ts.CompilerOptions = {
        strict: true,
        target: ts.ScriptTarget.ES2020,
        module: ts.ModuleKind.CommonJS,
        moduleResolution: ts.ModuleResolutionKind.Node10,
        experimentalDecorators: true,
        noFallthroughCasesInSwitch: true,
        noImplicitReturns: true,
        forceConsistentCasingInFileNames: true,
        noEmit: true,
        types: ["node"],
        typeRoots: [join(consumer.dir, "node_modules", "@types")],
      };
      const program = ts.createProgram(files, options);
      const problems = ts
        .getPreEmitDiagnostics(program)
        .map(
          (d) =>
            `${d.file ? `${d.file.fileName.split("/").at(-1)}: ` : ""}TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`,
        );
      expect(problems).toEqual([]);
    } finally {
      consumer.dispose();
    }
  });
});

describe("building from a fresh clone", () => {
  it("prepare without the dev dependencies says to run the root `npm ci` first, instead of `tsc: not found`", async () => {
    const clone = mkdtempSync(join(tmpdir(), "fresh-clone-"));
    try {
      mkdirSync(join(clone, "scripts"));
      copyFileSync(join(REPO, "scripts", "prepare.mjs"), join(clone, "scripts", "prepare.mjs"));
      copyFileSync(join(REPO, "package.json"), join(clone, "package.json"));
      const child = spawn(process.execPath, [join(clone, "scripts", "prepare.mjs")], { cwd: clone });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      const status = await new Promise((resolve) => child.once("close", resolve));
      expect(status).toBe(1);
      expect(stderr).toBe(
        `pulumi-sendgrid-segment: building dist/ needs this repository's dev dependencies (TypeScript): run \`npm ci\` in ${clone} first\n`,
      );
    } finally {
      rmSync(clone, { recursive: true, force: true });
    }
  });

  it("an example with its own node_modules (after `npm install` in it) is copied without them by the tests", () => {
    const example = join(REPO, "examples", "basic");
    const own = join(example, "node_modules");
    const existed = existsSync(own);
    if (!existed) mkdirSync(join(own, "left-by-npm-install"), { recursive: true });
    try {
      const consumer = linkedConsumer(example);
      try {
        expect(readdirSync(join(consumer.dir, "node_modules"))).not.toContain("left-by-npm-install");
      } finally {
        consumer.dispose();
      }
    } finally {
      if (!existed) rmSync(own, { recursive: true, force: true });
    }
  });
});

describe("the README's numbers are the code's", () => {
  it.each([
    ["at most 10 API calls per account", () => `At most ${MAX_CONCURRENT_CALLS} API calls per`],
    ["a tenth of the wait as jitter", () => (RATE_LIMIT_JITTER === 0.1 ? "jitter of up to a tenth of that wait" : "?")],
    ["at least 50 ms of jitter", () => `(at least\n  ${DEFAULT_RETRY.rateLimitJitterMs} ms)`],
    ["backoff from 250 ms", () => `back off exponentially from ${DEFAULT_RETRY.baseMs} ms`],
    ["at most 10 s per step", () => `at most ${DEFAULT_RETRY.maxBackoffMs / 1000} s per step`],
    ["default budget 120 s", () => `(default ${DEFAULT_RETRY_BUDGET_MS / 1000} s)`],
    ["default request timeout 30 s", () => `(default ${DEFAULT_REQUEST_TIMEOUT_MS / 1000} s)`],
    ["at most 3 POSTs", () => `at most ${MAX_CREATE_ATTEMPTS} POSTs in all`],
    ["answers up to 256 KiB", () => `read up to ${MAX_ANSWER_BYTES / 1024} KiB`],
    ["errors at most 1 KiB", () => `Errors are at most ${MAX_MESSAGE_LENGTH / 1024} KiB`],
    ["SendGrid's first 3 errors", () => `SendGrid's first ${MAX_DETAILS} errors`],
    ["the limit of 10", () => `limit of ${INTEGRATION_LIMIT} per account`],
    ["state version 2", () => `\`stateVersion\` (${STATE_VERSION} for this release`],
    ["the commands' 10 s of retries", () => `${CLI_RETRY_BUDGET_MS / 1000} s of retries`],
    ["the commands' 5 s per attempt", () => `${CLI_REQUEST_TIMEOUT_MS / 1000} s per attempt`],
    ["about 15 s in all", () => `about ${(CLI_RETRY_BUDGET_MS + CLI_REQUEST_TIMEOUT_MS) / 1000} s`],
  ])("%s", (_, text) => {
    expect(README.replace(/\n\s+/g, "\n  ")).toContain(text());
  });

  it("the shim sizes: 673 bytes now, 2,237 in 0.1.0's state", async () => {
    const fixture = JSON.parse(readFileSync(join(REPO, "tests/fixtures/state-0.1.0.json"), "utf8"));
    const now = Buffer.byteLength(await rootProgramProvider());
    const old = Buffer.byteLength(fixture.inputs.__provider);
    expect(README).toContain(`thin shim of ${now}\n  bytes`);
    expect(README).toContain(`a ${old.toLocaleString("en-US")}-byte shim of another shape`);
  });
});
