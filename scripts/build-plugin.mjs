#!/usr/bin/env node
// npm run build:plugin: the native provider plugin as a self-contained executable and the tarball
// `pulumi plugin install resource sendgrid-segment <version> --file <tarball>` takes.
//
//   1. esbuild bundles provider/native/main.ts and everything it uses (got, valibot, gRPC, the proto
//      stubs) into one CommonJS file: a single executable application runs exactly one script.
//   2. Node's single executable applications (node --experimental-sea-config + postject) put that
//      script into a copy of this Node binary, so the plugin runs where no Node.js is installed.
//   3. tar packs the executable (with LICENSE and README.md) as
//      pulumi-resource-sendgrid-segment-v<version>-<os>-<arch>.tar.gz.
//
// Output in dist/plugin/. Options: --out <dir>.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PLUGIN = "sendgrid-segment";
const EXECUTABLE = `pulumi-resource-${PLUGIN}`;
/** postject's marker that a binary carries a SEA blob (Node's documented fuse). */
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

const OS = { linux: "linux", darwin: "darwin", win32: "windows" };
const ARCH = { x64: "amd64", arm64: "arm64" };

function fail(message) {
  console.error(`build-plugin: ${message}`);
  process.exit(1);
}

const argv = process.argv.slice(2);
const outFlag = argv.indexOf("--out");
if (argv.some((a, i) => a !== "--out" && argv[i - 1] !== "--out"))
  fail(`unknown argument; usage: build-plugin [--out <dir>]`);
const out = resolve(outFlag >= 0 ? (argv[outFlag + 1] ?? fail("--out needs a directory")) : join(ROOT, "dist/plugin"));
const os = OS[process.platform] ?? fail(`no plugin build for ${process.platform}`);
const arch = ARCH[process.arch] ?? fail(`no plugin build for ${process.arch}`);
const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

const started = Date.now();
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "bin"), { recursive: true });

// 1. One CommonJS script.
const bundle = join(out, `${EXECUTABLE}.cjs`);
const esbuild = await import("esbuild");
await esbuild.build({
  entryPoints: [join(ROOT, "provider/native/main.ts")],
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  outfile: bundle,
  define: { __SENDGRID_SEGMENT_VERSION__: JSON.stringify(version) },
  legalComments: "none",
  logLevel: "warning",
});

// 2. The single executable application.
const blob = join(out, "sea-prep.blob");
const seaConfig = join(out, "sea-config.json");
writeFileSync(seaConfig, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true }));
execFileSync(process.execPath, ["--experimental-sea-config", seaConfig], { stdio: ["ignore", "ignore", "inherit"] });
const executable = join(out, "bin", os === "windows" ? `${EXECUTABLE}.exe` : EXECUTABLE);
copyFileSync(process.execPath, executable);
chmodSync(executable, 0o755);
const postject = join(ROOT, "node_modules/postject/dist/cli.js");
const macho = os === "darwin" ? ["--macho-segment-name", "NODE_SEA"] : [];
execFileSync(process.execPath, [postject, executable, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE, ...macho], {
  stdio: ["ignore", "ignore", "inherit"],
});
rmSync(blob);
rmSync(seaConfig);

// 3. The tarball.
copyFileSync(join(ROOT, "LICENSE"), join(out, "bin", "LICENSE"));
copyFileSync(join(ROOT, "README.md"), join(out, "bin", "README.md"));
const tarball = join(out, `${EXECUTABLE}-v${version}-${os}-${arch}.tar.gz`);
execFileSync("tar", ["-czf", tarball, "-C", join(out, "bin"), "."]);

const mb = (file) => `${(statSync(file).size / 1e6).toFixed(1)} MB`;
console.log(`${executable} (${mb(executable)}, bundle ${mb(bundle)})`);
console.log(`${tarball} (${mb(tarball)}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
