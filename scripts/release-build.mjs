#!/usr/bin/env node
// npm run release:build: every plugin tarball this machine can build, and SHA256SUMS, in dist/release/.
//
//   pulumi-resource-sendgrid-segment-v<version>-universal.tar.gz   any OS and architecture with Node.js
//   pulumi-resource-sendgrid-segment-v<version>-<os>-<arch>.tar.gz  self-contained executables, embedding
//       the Node.js pinned in scripts/release/node-version (linux-amd64, linux-arm64, windows-amd64 by
//       default; darwin-amd64 and darwin-arm64 only on macOS, which signs them: the release workflow)
//
// The tarballs are reproducible: the same sources, Node binaries and SOURCE_DATE_EPOCH (default: the
// last commit's time) give the same bytes, wherever the clone is. The package schema's
// pluginDownloadURL comes from package.json's repository (or --plugin-download-url).
//
// Options: --out <dir>, --targets <a,b,...>, --node <version> (instead of the pin), --no-universal,
// --plugin-download-url <url>. `node scripts/release-build.mjs --sums <dir>` rewrites <dir>/SHA256SUMS
// for the tarballs there (the release workflow, after collecting every machine's).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  BuildError,
  build,
  CROSS_TARGETS,
  packageInfo,
  pinnedNodeVersion,
  pluginDownloadURL,
  ROOT,
  sha256sums,
  sourceDateEpoch,
} from "./release/artifacts.mjs";

const started = Date.now();
try {
  const { values } = parseArgs({
    options: {
      out: { type: "string", default: join(ROOT, "dist/release") },
      targets: { type: "string", default: CROSS_TARGETS.join(",") },
      node: { type: "string" },
      universal: { type: "boolean", default: true },
      "no-universal": { type: "boolean", default: false },
      "plugin-download-url": { type: "string" },
      sums: { type: "string" },
    },
  });
  if (values.sums) {
    const dir = resolve(values.sums);
    const tarballs = readdirSync(dir).filter((f) => f.endsWith(".tar.gz"));
    if (tarballs.length === 0) throw new BuildError(`no .tar.gz in ${dir}`);
    writeFileSync(join(dir, "SHA256SUMS"), sha256sums(tarballs.map((f) => [f, readFileSync(join(dir, f))])));
    console.log(`${join(dir, "SHA256SUMS")} (${tarballs.length} tarballs)`);
  } else {
    const { pkg } = packageInfo();
    const downloadURL = values["plugin-download-url"] ?? pluginDownloadURL(pkg);
    const { written } = await build({
      out: resolve(values.out),
      targets: values.targets.split(",").filter(Boolean),
      nodeVersion: values.node ?? pinnedNodeVersion(),
      downloadURL,
      universal: !values["no-universal"],
      mtime: sourceDateEpoch(),
      log: (line) => console.log(line),
    });
    console.log(
      `${written.size} tarballs and SHA256SUMS in ${((Date.now() - started) / 1000).toFixed(1)} s` +
        (downloadURL
          ? `; the schema's pluginDownloadURL is ${downloadURL}`
          : "; no pluginDownloadURL (no GitHub repository in package.json)"),
    );
  }
} catch (/** @type {any} */ error) {
  if (!(error instanceof BuildError || error?.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION")) throw error;
  console.error(`release-build: ${error.message}`);
  process.exit(1);
}
