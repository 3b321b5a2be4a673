// Pulumi's Node.js language host runs this folder (`@pulumi/pulumi/cmd/run-plugin <folder> <engine>`):
// the same plugin as the executable, from the repository's build.

const { join } = require("node:path");

let server;
try {
  server = require(join(__dirname, "..", "dist", "provider", "native", "server.js"));
} catch (error) {
  if (error.code !== "MODULE_NOT_FOUND") throw error;
  console.error("sendgrid-segment: the repository is not built; run `npm ci` in its root first");
  process.exit(1);
}
server.main(process.argv.slice(2)).catch((error) => {
  console.error(`sendgrid-segment: ${error.message}`);
  process.exit(1);
});
