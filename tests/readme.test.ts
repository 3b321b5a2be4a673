// The README, the docs pages it leads to and CONTRIBUTING say only true things: every shell line
// that needs no Pulumi CLI is run (the package's bins through an `npx` shim pointing at dist/,
// against an emulator), every npm script they name exists, every error code and test file is listed,
// every number the code defines is the code's, every relative link leads to a file (and heading)
// that exists, and the README links every page in docs/ (a newcomer's answer within two clicks).
import { spawn, spawnSync } from "node:child_process";
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
import { parse as parseYaml } from "yaml";
import { CLI_REQUEST_TIMEOUT_MS, CLI_RETRY_BUDGET_MS } from "../cli/main";
import { type Emulator, startEmulator } from "../emulator";
import { MAX_ANSWER_BYTES, MAX_CONCURRENT_CALLS } from "../provider/client";
import { DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_RETRY_BUDGET_MS } from "../provider/config";
import { HEALTH_INTERVAL_MS } from "../provider/engine";
import { MAX_DETAILS, MAX_MESSAGE_LENGTH } from "../provider/errors";
import { MAX_CREATE_ATTEMPTS } from "../provider/reconcile";
import { DEFAULT_RETRY, DNS_ATTEMPTS, RATE_LIMIT_JITTER, RETRY_STATUS } from "../provider/retry";
import { MAX_UNKNOWN_KEYS } from "../provider/schema";
import { INTEGRATION_LIMIT, STATE_VERSION } from "../provider/types";
import { yamlMisfits } from "./docs/schema-check";
import { artifacts, VERSION } from "./platforms/engine";
import { linkedConsumer, REPO, rootProgramProvider } from "./support/programs";
import { projectErrors } from "./support/pulumi-project";

const read = (file: string) => readFileSync(join(REPO, file), "utf8");
const README = read("README.md");
const CONTRIBUTING = read("CONTRIBUTING.md");
/** The pages the README's topics live in, each a click from the README. */
const PAGES = {
  guide: "docs/guide.md",
  plugin: "docs/plugin.md",
  commands: "docs/commands.md",
  reliability: "docs/reliability.md",
  emulator: "docs/emulator.md",
  troubleshooting: "docs/troubleshooting.md",
} as const;
type Page = keyof typeof PAGES | "readme";
const TEXT: Record<Page, string> = {
  readme: README,
  ...(Object.fromEntries(Object.entries(PAGES).map(([page, file]) => [page, read(file)])) as Record<
    keyof typeof PAGES,
    string
  >),
};
/** The README and its pages, as one text (for what may be said in any of them). */
const DOCS = Object.values(TEXT).join("\n");
const pkg = JSON.parse(read("package.json"));

/** Lines of ```sh blocks. */
const shellLines = (markdown: string) =>
  [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((m) => m[1]!.split("\n").map((l) => l.trim()))
    .filter(Boolean);

/** The README lines that need no Pulumi CLI, no clone elsewhere and no real account. */
const RUNNABLE = /^(SENDGRID_\w+=\S+ )*npx (pulumi-sendgrid-segment|sendgrid-segment-emulator)\b/;
const runnable = [...new Set(shellLines(DOCS).filter((l) => RUNNABLE.test(l)))];

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

describe("the shell examples of the README and its pages that need no Pulumi CLI", () => {
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
    const named = [...`${DOCS}\n${CONTRIBUTING}`.matchAll(/npm (?:run ([\w:-]+)|(start|test)\b)/g)].map(
      (m) => m[1] ?? m[2],
    );
    expect(named.length).toBeGreaterThan(5);
    for (const script of new Set(named)) expect(pkg.scripts, `npm run ${script}`).toHaveProperty(script!);
  });

  it("the README names the three commands of a clone", () => {
    for (const command of ["npm ci", "npm start", "npm test"]) expect(shellLines(README).join("\n")).toContain(command);
  });

  it("every error code is in the troubleshooting page's table", () => {
    const codes = [...read("provider/errors.ts").matchAll(/"(ERR_SENDGRID_\w+)"/g)].map((m) => m[1]);
    expect(new Set(codes).size).toBeGreaterThanOrEqual(9);
    const rows = TEXT.troubleshooting.split("\n").filter((line) => line.startsWith("| `"));
    for (const code of codes)
      expect(
        rows.some((row) => row.includes(`| \`${code}\` |`)),
        code,
      ).toBe(true);
  });

  it("every test file is in CONTRIBUTING's list of layers", () => {
    for (const file of readdirSync(join(REPO, "tests")).filter((f) => f.endsWith(".test.ts"))) {
      expect(CONTRIBUTING, file).toContain(`\`${file}\``);
    }
  });

  it("every configuration setting the provider reads is in the guide", () => {
    for (const setting of ["apiKey", "region", "apiBaseUrl", "requestTimeoutMs", "retryBudgetMs", "accounts"]) {
      expect(TEXT.guide).toContain(`\`sendgrid:${setting}\``);
    }
  });

  it("the plugin's install lines name its package, this version and a tarball the build makes", async () => {
    const { TARGETS, tarballName } = await artifacts();
    const names = new Set([...Object.keys(TARGETS), "universal"].map((t) => tarballName(VERSION, t)));
    const lines = shellLines(DOCS).filter((l) => /^pulumi (plugin install|package add) /.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines) {
      const add = /^pulumi package add (\S+)$/.exec(line);
      if (add) expect(add[1]).toBe(`sendgrid-segment@${VERSION}`);
      else expect(line).toMatch(new RegExp(`^pulumi plugin install resource sendgrid-segment ${VERSION} --file \\S+$`));
      const file = /--file (\S+)/.exec(line)?.[1];
      if (file) expect(names).toContain(file);
    }
    // The README's platform table: each tarball whole, or its suffix after the first one's prefix.
    const rows = [...README.matchAll(/^\| [^|]+ \| `([^`]+\.tar\.gz)` \|/gm)].map((m) => m[1]!);
    expect(rows.map((r) => r.replace(/^…-/, `pulumi-resource-sendgrid-segment-v${VERSION}-`)).sort()).toEqual(
      [...names].sort(),
    );
  });

  it("the README's checksum command passes on a release folder's SHA256SUMS, and fails on a changed tarball", async () => {
    const { sha256sums, tarballName } = await artifacts();
    const dir = mkdtempSync(join(tmpdir(), "readme-checksum-"));
    try {
      const mine = tarballName(VERSION, "linux-amd64");
      writeFileSync(join(dir, mine), "the tarball");
      writeFileSync(
        join(dir, "SHA256SUMS"),
        sha256sums([
          [mine, Buffer.from("the tarball")],
          [tarballName(VERSION, "windows-amd64"), Buffer.from("not downloaded")],
        ]),
      );
      const checks = shellLines(README)
        .filter((l) => /^(sha256sum|shasum)\b/.test(l))
        .map((l) => l.replace(/\s+#.*$/, ""));
      expect(checks).toHaveLength(1);
      const run = (line: string) => spawnSync("sh", ["-c", line], { cwd: dir, encoding: "utf8" });
      expect(run(checks[0]!)).toMatchObject({ status: 0, stdout: `${mine}: OK\n` });
      writeFileSync(join(dir, mine), "another tarball");
      expect(run(checks[0]!).status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the README's YAML program is a whole Pulumi.yaml naming only what the plugin's schema has", () => {
    const programs = [...README.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(programs).toHaveLength(1);
    expect(projectErrors(programs[0]!)).toEqual([]);
    expect(yamlMisfits(parseYaml(programs[0]!))).toEqual([]);
  });
});

/** GitHub's heading anchors (github-slugger): lower case, punctuation dropped, spaces as dashes, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  const text = markdown.replace(/```[\s\S]*?```/g, "");
  for (const [, heading] of text.matchAll(/^#{1,6} (.+)$/gm)) {
    const base = heading!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

describe("links: every page is two clicks from the README", () => {
  const markdown = [
    "README.md",
    ...readdirSync(join(REPO, "docs"))
      .filter((f) => f.endsWith(".md"))
      .map((f) => `docs/${f}`),
  ];

  it.each(markdown)("every relative link in %s leads to a file, and a heading, that exist", (file) => {
    const text = read(file).replace(/```[\s\S]*?```/g, "");
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
    for (const link of links) {
      const [path, anchor] = link.split("#");
      const target = path ? join(REPO, dirname(file), path) : join(REPO, file);
      expect(existsSync(target), `${file}: ${link}`).toBe(true);
      if (anchor !== undefined && target.endsWith(".md")) {
        expect(anchors(readFileSync(target, "utf8")), `${file}: ${link}`).toContain(anchor);
      }
    }
  });

  it("the README links every page in docs/", () => {
    const linked = new Set([...README.matchAll(/\]\((docs\/[^)#\s]+)/g)].map((m) => m[1]!));
    for (const file of markdown.filter((f) => f.startsWith("docs/"))) expect(linked, file).toContain(file);
  });

  it("each page the README's topics moved to says in its first lines what it covers, and links back", () => {
    for (const file of Object.values(PAGES)) {
      const [title, , ...rest] = read(file).split("\n");
      expect(title, file).toMatch(/^# /);
      const opening = rest.slice(0, rest.indexOf("")).join(" ");
      expect(opening, file).toContain("](../README.md)");
    }
  });
});

describe("the TypeScript programs of the README and its pages compile as `pulumi new typescript` sets them up", () => {
  // Blocks that are whole programs (they start with an import); fragments, and the block showing
  // the ES-module and CommonJS forms side by side, are not compiled.
  // The plugin's TypeScript program uses the SDK `pulumi package add` generates: languages.test.ts
  // checks it against the schema instead.
  const programs = [...DOCS.matchAll(/```ts\n([\s\S]*?)```/g)]
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

describe("the docs' numbers are the code's", () => {
  /** Whitespace as one space: a line break in the page is no difference. */
  const flat = (text: string) => text.replace(/\s+/g, " ");
  it.each<[string, Page, () => string]>([
    ["at most 10 API calls per account", "reliability", () => `At most ${MAX_CONCURRENT_CALLS} API calls per`],
    [
      "a tenth of the wait as jitter",
      "reliability",
      () => (RATE_LIMIT_JITTER === 0.1 ? "jitter of up to a tenth of that wait" : "?"),
    ],
    ["at least 50 ms of jitter", "reliability", () => `(at least\n  ${DEFAULT_RETRY.rateLimitJitterMs} ms)`],
    ["backoff from 250 ms", "reliability", () => `back off exponentially from ${DEFAULT_RETRY.baseMs} ms`],
    ["at most 10 s per step", "reliability", () => `at most ${DEFAULT_RETRY.maxBackoffMs / 1000} s per step`],
    ["default budget 120 s", "reliability", () => `(default ${DEFAULT_RETRY_BUDGET_MS / 1000} s)`],
    ["default request timeout 30 s", "reliability", () => `(default ${DEFAULT_REQUEST_TIMEOUT_MS / 1000} s)`],
    ["at most 3 POSTs", "reliability", () => `at most ${MAX_CREATE_ATTEMPTS} POSTs in all`],
    ["answers up to 256 KiB", "reliability", () => `read up to ${MAX_ANSWER_BYTES / 1024} KiB`],
    ["errors at most 1 KiB", "reliability", () => `Errors are at most ${MAX_MESSAGE_LENGTH / 1024} KiB`],
    ["SendGrid's first 3 errors", "reliability", () => `SendGrid's first ${MAX_DETAILS} errors`],
    ["the limit of 10", "guide", () => `limit of ${INTEGRATION_LIMIT} per account`],
    ["state version 3", "guide", () => `\`stateVersion\` (${STATE_VERSION} for this release`],
    ["the commands' 10 s of retries", "commands", () => `${CLI_RETRY_BUDGET_MS / 1000} s of retries`],
    ["the commands' 5 s per attempt", "commands", () => `${CLI_REQUEST_TIMEOUT_MS / 1000} s per attempt`],
    ["about 15 s in all", "commands", () => `about ${(CLI_RETRY_BUDGET_MS + CLI_REQUEST_TIMEOUT_MS) / 1000} s`],
    ["3 quick tries of a name that does not resolve for now", "reliability", () => `| ${DNS_ATTEMPTS} quick tries |`],
    ["the unknown keys named", "reliability", () => `the first ${MAX_UNKNOWN_KEYS} are named`],
    [
      "the statuses retried",
      "reliability",
      () =>
        `| ${RETRY_STATUS.filter((s) => s !== 429 && s < 520).join(", ")}, ${RETRY_STATUS.filter((s) => s >= 520)[0]}–${RETRY_STATUS.at(-1)} |`,
    ],
    ["the engine's health asked every 10 s", "plugin", () => `every ${HEALTH_INTERVAL_MS / 1000} s whether it`],
  ])("%s (%s)", (_, page, text) => {
    expect(flat(TEXT[page])).toContain(flat(text()));
  });

  it("the retried statuses are 429 and those of the table's row, all of them", () => {
    expect(RETRY_STATUS).toEqual([429, 500, 502, 503, 504, 520, 521, 522, 523, 524]);
  });

  it("the shim sizes: 673 bytes now, 2,237 in 0.1.0's state (guide)", async () => {
    const fixture = JSON.parse(read("tests/fixtures/state-0.1.0.json"));
    const now = Buffer.byteLength(await rootProgramProvider());
    const old = Buffer.byteLength(fixture.inputs.__provider);
    expect(flat(TEXT.guide)).toContain(`thin shim of ${now} bytes`);
    expect(flat(TEXT.guide)).toContain(`a ${old.toLocaleString("en-US")}-byte shim of another shape`);
  });
});
