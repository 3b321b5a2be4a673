// The universal plugin's entry, run by the launchers on the Node.js found on PATH. Its syntax is
// what Node.js 4 and later read, so that an old Node.js says what is needed instead of failing on the
// bundle's newer syntax. The message is a file write to stderr, as the port is one to stdout.
"use strict";
const needed = Number("@NODE_MAJOR@"); // the build fills in package.json's engines.node
if (!(Number(process.versions.node.split(".")[0]) >= needed)) {
  // biome-ignore lint/style/useNodejsImportProtocol: Node.js before 14.18 knows no "node:" prefix
  require("fs").writeSync(
    2,
    `pulumi-resource-sendgrid-segment: needs Node.js ${needed} or newer; ${process.execPath} is ${process.version}\n`,
  );
  process.exit(1);
}
require("./plugin.cjs");
