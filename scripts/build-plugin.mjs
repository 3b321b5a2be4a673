#!/usr/bin/env node
// npm run build:plugin: the native plugin for this machine, with the Node.js running the build,
// in dist/plugin/ (quick, nothing downloaded; `npm run release:build` builds every platform with the
// pinned Node.js):
//
//   bin/pulumi-resource-sendgrid-segment[.exe]   the self-contained executable (Node's single
//                                                executable application around the esbuild bundle)
//   pulumi-resource-sendgrid-segment-v<version>-<os>-<arch>.tar.gz   it, as `pulumi plugin install
//                                                resource sendgrid-segment <version> --file` takes it
//   pulumi-resource-sendgrid-segment-v<version>-universal.tar.gz     the bundle and its launchers, for
//                                                any OS and architecture where Node.js is installed
//   SHA256SUMS
//
// Options: --out <dir>, --plugin-download-url <url> (the package schema's pluginDownloadURL; default
// from package.json's repository).
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  BuildError,
  build,
  executableName,
  hostTarget,
  packageInfo,
  pluginDownloadURL,
  ROOT,
  sourceDateEpoch,
  tarballName,
  untarGz,
} from "./release/artifacts.mjs";

const started = Date.now();
try {
  const { values } = parseArgs({
    options: { out: { type: "string", default: join(ROOT, "dist/plugin") }, "plugin-download-url": { type: "string" } },
  });
  const target = hostTarget();
  if (!target) throw new BuildError(`no plugin build for ${process.platform}-${process.arch}`);
  const out = resolve(values.out);
  const { pkg, version } = packageInfo();
  const { written } = await build({
    out,
    targets: [target],
    downloadURL: values["plugin-download-url"] ?? pluginDownloadURL(pkg),
    mtime: sourceDateEpoch(),
    level: 1, // quick: a local build; releases compress at 6
    log: (line) => console.log(line),
  });
  // The executable itself, where the benchmark and a developer look for it.
  const { data } = (await untarGz(written.get(tarballName(version, target)))).get(executableName(target));
  mkdirSync(join(out, "bin"), { recursive: true });
  writeFileSync(join(out, "bin", executableName(target)), data, { mode: 0o755 });
  console.log(`${join(out, "bin", executableName(target))} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (/** @type {any} */ error) {
  if (!(error instanceof BuildError || error?.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION")) throw error;
  console.error(`build-plugin: ${error.message}`);
  process.exit(1);
}
