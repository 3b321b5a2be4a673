// The package where users stand: `npm pack`, install the tarball into fresh consumer projects
// outside the repository (CommonJS and ESM), run their programs under setMocks, then drive the
// full lifecycle through the dynamic-provider gRPC server started from the consumer's node_modules,
// against the emulator shipped in the package. Also: exactly one @pulumi/pulumi, the examples
// typecheck against the installed package, and state from the previous release still works.
//
// Matrix knobs (see .ci/run): CONSUMER_NODE (node binary, default this one) and CONSUMER_PULUMI
// (@pulumi/pulumi version, default the one this repository pins).
import { execFile, execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, posix } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProviderServer } from "../support/engine.cjs";
import { API_KEY, WRITE_KEY, WRITE_KEY_2 } from "../support/fixtures";
import { loadStateFixture, runLifecycle, runUpgrade } from "../support/lifecycle";
import { REPO, runProgram } from "../support/programs";

const NODE = process.env.CONSUMER_NODE || process.execPath;
const PULUMI =
  process.env.CONSUMER_PULUMI ||
  JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).devDependencies["@pulumi/pulumi"];
const nodeVersion = execFileSync(NODE, ["--version"], { encoding: "utf8" }).trim();
const TYPE = "pulumi-nodejs:dynamic/sendgrid:SegmentIntegration";

const work = mkdtempSync(join(tmpdir(), "sendgrid-packed-"));
let tarball: string;

function npm(args: string[], cwd: string) {
  // npm runs on this Node; the consumer's programs run on NODE.
  execFileSync("npm", [...args, "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], {
    cwd,
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, npm_config_update_notifier: "false" },
  });
}

/** A fresh project outside the repository with the packed package installed, as a user would. */
function consumerProject(kind: "cjs" | "esm"): string {
  const dir = join(work, `consumer-${kind}`);
  mkdirSync(dir);
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: `consumer-${kind}`, private: true, ...(kind === "esm" ? { type: "module" } : {}) }, null, 2),
  );
  const extra = kind === "cjs" ? ["typescript@5.9.3", "@types/node@20"] : [];
  npm(["install", tarball, `@pulumi/pulumi@${PULUMI}`, ...extra], dir);
  cpSync(join(__dirname, "programs", `${kind}.js`), join(dir, "index.js"));
  return dir;
}

/** Every copy of a package under a project's node_modules (nested ones included). */
function copiesOf(dir: string, pkg: string): string[] {
  const found: string[] = [];
  const walk = (nodeModules: string) => {
    if (!existsSync(nodeModules)) return;
    if (existsSync(join(nodeModules, pkg, "package.json"))) found.push(join(nodeModules, pkg));
    for (const entry of readdirSync(nodeModules)) {
      const scoped = entry.startsWith("@")
        ? readdirSync(join(nodeModules, entry)).map((e) => `${entry}/${e}`)
        : [entry];
      for (const name of scoped) walk(join(nodeModules, name, "node_modules"));
    }
  };
  walk(join(dir, "node_modules"));
  return found;
}

beforeAll(() => {
  console.log(`consumer matrix leg: node ${nodeVersion}, @pulumi/pulumi ${PULUMI}`);
  const out = execFileSync("npm", ["pack", "--pack-destination", work, "--loglevel=error"], {
    cwd: REPO,
    encoding: "utf8",
  });
  tarball = join(work, out.trim().split("\n").pop()!);
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the packed tarball", () => {
  it("holds the library, the emulator, types and license, and no sources, tests or dev tooling", () => {
    const files = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n").filter(Boolean);
    expect(files).toContain("package/dist/provider/index.js");
    expect(files).toContain("package/dist/provider/index.d.ts");
    expect(files).toContain("package/dist/provider/dynamic/index.js");
    expect(files).toContain("package/dist/emulator/index.js");
    expect(files).toContain("package/LICENSE");
    expect(files).toContain("package/README.md");
    expect(
      files.filter((f) => /\/(tests|examples|provider|emulator)\/.*\.ts$/.test(f) && !f.endsWith(".d.ts")),
    ).toEqual([]);
    const manifest = JSON.parse(execFileSync("tar", ["-xzOf", tarball, "package/package.json"], { encoding: "utf8" }));
    expect(Object.keys(manifest.dependencies).sort()).toEqual(["commander", "got", "p-limit", "valibot"]);
    expect(files).toContain("package/dist/cli/main.js");
    expect(manifest.peerDependencies).toHaveProperty("@pulumi/pulumi");
  });

  it("holds every page the README and the docs link to (on npm too), except the examples, which stay in the repository", () => {
    const files = new Set(execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n").filter(Boolean));
    const pages = [...files].filter((f) => /^package\/(README|docs\/[^/]+)\.md$/.test(f));
    expect(pages.length).toBeGreaterThan(5);
    const missing: string[] = [];
    for (const page of pages) {
      const text = execFileSync("tar", ["-xzOf", tarball, page], { encoding: "utf8" });
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue; // https:, mailto:
        const file = posix.normalize(posix.join(posix.dirname(page), target!));
        if (!file.startsWith("package/examples/") && !files.has(file)) missing.push(`${page} -> ${target}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe.each(["cjs", "esm"] as const)(`%s consumer (node ${nodeVersion}, @pulumi/pulumi ${PULUMI})`, (kind) => {
  let dir: string;
  let provider: string;

  beforeAll(() => {
    dir = consumerProject(kind);
  }, 300_000);

  it("has exactly one @pulumi/pulumi, the requested version", () => {
    const copies = copiesOf(dir, "@pulumi/pulumi");
    expect(copies).toEqual([join(dir, "node_modules", "@pulumi", "pulumi")]);
    expect(JSON.parse(readFileSync(join(copies[0]!, "package.json"), "utf8")).version).toBe(PULUMI);
  });

  it("installs the emulator and import commands", () => {
    const help = execFileSync(NODE, [join(dir, "node_modules", ".bin", "sendgrid-segment-emulator"), "--help"], {
      encoding: "utf8",
    });
    expect(help).toContain("Starts a local SendGrid Integrations API");
    const cli = execFileSync(NODE, [join(dir, "node_modules", ".bin", "pulumi-sendgrid-segment"), "import", "--help"], {
      encoding: "utf8",
    });
    expect(cli).toMatch(/^Usage: pulumi-sendgrid-segment import \[options\] --out index\.ts/);
    expect(cli).toContain("The API key is read from SENDGRID_API_KEY");
    const audit = execFileSync(
      NODE,
      [join(dir, "node_modules", ".bin", "pulumi-sendgrid-segment"), "audit", "--help"],
      {
        encoding: "utf8",
      },
    );
    expect(audit).toMatch(/^Usage: pulumi-sendgrid-segment audit \[options\]/);
  });

  it("runs the program under setMocks: registrations, type token, secret write key", async () => {
    const run = await runProgram(join(dir, "index.js"), {
      project: "consumer",
      config: { "consumer:writeKey": WRITE_KEY },
      secretKeys: ["consumer:writeKey"],
      node: NODE,
    });
    expect(run.error).toBeUndefined();
    const integrations = run.registered.filter((r) => r.type === TYPE);
    expect(integrations.map((r) => r.name)).toEqual([`${kind}-prod`, `${kind}-sub`]);
    for (const r of integrations) {
      expect(r.inputs.properties).toEqual({ secret: { writeKey: WRITE_KEY, destinationRegion: "US" } });
      expect(r.additionalSecretOutputs).toEqual(["properties", "sendgridKeyDigest"]);
    }
    expect(run.outputs).toEqual({ ids: [`${kind}-prod-id`, `${kind}-sub-id`] });

    const providers = new Set(integrations.map((r) => r.provider));
    expect(providers.size).toBe(1);
    provider = integrations[0]!.provider!;
    const bytes = Buffer.byteLength(provider);
    console.log(`${kind} consumer: __provider ${bytes} bytes per resource`);
    expect(bytes).toBeLessThanOrEqual(2048);
    for (const forbidden of [API_KEY, WRITE_KEY, dir, work, REPO, tmpdir(), "node_modules"])
      expect(provider).not.toContain(forbidden);
  });

  it("runs the full lifecycle and an upgrade through the gRPC server from the consumer's node_modules", async () => {
    // The emulator as users get it: from the installed package.
    const fromConsumer = createRequire(join(dir, "index.cjs"));
    expect(dirname(fromConsumer.resolve("pulumi-sendgrid-segment/emulator"))).toContain(join(dir, "node_modules"));
    const { startEmulator } = fromConsumer("pulumi-sendgrid-segment/emulator");
    const emulator = await startEmulator({ apiKeys: [API_KEY] });
    // Each destroy is a deployment of its own: a new provider process, as the engine starts it.
    const processes = [await startProviderServer({ programDir: dir, node: NODE })];
    const nextDeployment = async () => {
      const next = await startProviderServer({ programDir: dir, node: NODE });
      processes.push(next);
      await next.configure({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url });
      return next;
    };
    const server = processes[0]!;
    try {
      await server.configure({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url });
      await runLifecycle(server, emulator, provider, `${kind}-prod`, nextDeployment);
      // The upgrade's first run (a refresh, then an up) is a deployment of its own: a new provider process.
      await runUpgrade(await nextDeployment(), emulator, loadStateFixture("0.1.0"), provider, nextDeployment);
    } finally {
      for (const p of processes) await p.stop();
      await emulator.close();
    }
    for (const p of processes) {
      expect(p.stderr).not.toContain(API_KEY);
      expect(p.stderr).not.toContain(WRITE_KEY_2);
    }
  });

  // Issue 25: with Node's environment proxy on (NODE_USE_ENV_PROXY=1 and HTTP_PROXY, Node 24's
  // global agent), plain http to the loopback emulator must still go straight to it: a proxy would
  // see the Authorization header in clear text. The control request (Node's own agent, same
  // environment) shows the proxy is really in use on this Node.
  it.runIf(kind === "cjs")("never sends plain http to a proxy from the environment, even on Node 24", async () => {
    const seen: string[] = [];
    const proxy = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ? "with" : "without"} authorization`);
      res.writeHead(502).end();
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const env = {
      NODE_USE_ENV_PROXY: "1",
      HTTP_PROXY: proxyUrl,
      HTTPS_PROXY: proxyUrl,
      http_proxy: proxyUrl,
      NO_PROXY: "",
    };
    const fromConsumer = createRequire(join(dir, "index.cjs"));
    const { startEmulator } = fromConsumer("pulumi-sendgrid-segment/emulator");
    const emulator = await startEmulator({ apiKeys: [API_KEY] });
    const server = await startProviderServer({ programDir: dir, node: NODE, env });
    const destroying = await startProviderServer({ programDir: dir, node: NODE, env });
    try {
      await server.configure({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url });
      await runLifecycle(server, emulator, provider, `${kind}-proxy`, async () => {
        await destroying.configure({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url });
        return destroying;
      });
      expect(seen).toEqual([]);
      // The control: Node's own agent, in the same environment. Run asynchronously: the emulator
      // and the proxy answer from this process, so a synchronous child would wait on them forever.
      const { stdout } = await promisify(execFile)(
        NODE,
        [
          "-e",
          `require("http").get(${JSON.stringify(`${emulator.url}/v3/marketing/integrations`)}, (r) => { console.log(r.statusCode); r.resume(); }).on("error", (e) => console.log(e.code))`,
        ],
        { env: { ...process.env, ...env }, encoding: "utf8" },
      );
      const control = stdout.trim();
      const proxied = seen.length > 0;
      console.log(
        `node ${nodeVersion}: the environment proxy ${proxied ? "is" : "is not"} used by Node's own agent (answer ${control})`,
      );
      if (Number(nodeVersion.slice(1).split(".")[0]) >= 24) expect(proxied).toBe(true);
    } finally {
      await server.stop();
      await destroying.stop();
      await emulator.close();
      proxy.close();
    }
  });

  // TypeScript users' projects are CommonJS by default; the examples are checked in that consumer.
  if (kind === "cjs")
    it("typechecks examples/ against the installed package", () => {
      for (const example of ["basic", "composed"]) {
        const target = join(dir, "examples", example);
        cpSync(join(REPO, "examples", example), target, { recursive: true });
        execFileSync(NODE, [join(dir, "node_modules", "typescript", "bin", "tsc"), "-p", target], { stdio: "inherit" });
      }
    });

  // `pulumi new typescript` makes a CommonJS project: checked in that consumer, which has TypeScript.
  it.runIf(kind === "cjs")(
    "compiles in a `pulumi new typescript` layout (moduleResolution node, no skipLibCheck), emulator subpath included",
    () => {
      const target = join(dir, "pulumi-new");
      mkdirSync(target);
      // The tsconfig.json of Pulumi's `typescript` template.
      const tsconfig = {
        compilerOptions: {
          strict: true,
          outDir: "bin",
          target: "es2020",
          module: "commonjs",
          moduleResolution: "node",
          sourceMap: true,
          experimentalDecorators: true,
          pretty: true,
          noFallthroughCasesInSwitch: true,
          noImplicitReturns: true,
          forceConsistentCasingInFileNames: true,
        },
        files: ["index.ts"],
      };
      writeFileSync(join(target, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
      writeFileSync(
        join(target, "index.ts"),
        [
          'import * as pulumi from "@pulumi/pulumi";',
          'import { SegmentIntegration, type EmailEvent, type SendGridError } from "pulumi-sendgrid-segment";',
          'import { startEmulator } from "pulumi-sendgrid-segment/emulator";',
          'const events: EmailEvent[] = ["open"];',
          "const cfg = new pulumi.Config();",
          'export const id = new SegmentIntegration("x", { filters: { emailEvents: events }, properties: { writeKey: cfg.requireSecret("k"), destinationRegion: "US" }, account: "eu" }).integrationId;',
          "async function offline(): Promise<string> {",
          '  const emulator = await startEmulator({ apiKeys: ["SG.test"] });',
          "  await emulator.close();",
          "  return emulator.url;",
          "}",
          "export const check = (e: SendGridError) => e.code;",
          "void offline;",
        ].join("\n"),
      );
      execFileSync(NODE, [join(dir, "node_modules", "typescript", "bin", "tsc"), "--noEmit", "-p", target], {
        stdio: "inherit",
      });
    },
  );
});

// Before the package is on the registry, users install it from a clone or from git. Once per CI
// run (the first matrix leg): these install real packages and take about a minute together.
describe.runIf(!process.env.CONSUMER_NODE)("installing from a clone of the repository", () => {
  it.each(["basic", "composed"])(
    "examples/%s installs (file: to the clone, packed by install-links) and typechecks, with one @pulumi/pulumi",
    (example) => {
      const dir = join(work, `clone-${example}`);
      cpSync(join(REPO, "examples", example), dir, { recursive: true });
      const pkgFile = join(dir, "package.json");
      const pkg = JSON.parse(readFileSync(pkgFile, "utf8"));
      expect(pkg.dependencies["pulumi-sendgrid-segment"]).toBe("file:../..");
      expect(readFileSync(join(dir, ".npmrc"), "utf8")).toContain("install-links=true");
      // The copy lives outside the clone: point the same file: dependency at the clone itself.
      pkg.dependencies["pulumi-sendgrid-segment"] = `file:${REPO}`;
      writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));
      npm(["install"], dir);
      expect(copiesOf(dir, "@pulumi/pulumi")).toHaveLength(1);
      expect(existsSync(join(dir, "node_modules/pulumi-sendgrid-segment/dist/provider/index.js"))).toBe(true);
      execFileSync(process.execPath, [join(dir, "node_modules/typescript/bin/tsc"), "--noEmit", "-p", dir], {
        stdio: "inherit",
      });
    },
    180_000,
  );

  it("a git install builds dist/ through prepare", () => {
    const dir = join(work, "from-git");
    mkdirSync(dir);
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "from-git", private: true }));
    npm(["install", `git+file://${REPO}`], dir);
    const installed = join(dir, "node_modules/pulumi-sendgrid-segment");
    expect(existsSync(join(installed, "dist/provider/index.js"))).toBe(true);
    expect(existsSync(join(installed, "dist/cli/main.js"))).toBe(true);
    const out = execFileSync(
      NODE,
      ["-e", "console.log(typeof require('pulumi-sendgrid-segment').SegmentIntegration)"],
      {
        cwd: dir,
        encoding: "utf8",
      },
    );
    expect(out.trim()).toBe("function");
  }, 180_000);
});
