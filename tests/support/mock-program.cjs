#!/usr/bin/env node
/**
 * Runs a Pulumi program under `pulumi.runtime.setMocks` and prints, as JSON on stdout, what it
 * registered: each resource's type, name, inputs (secret inputs marked), additionalSecretOutputs,
 * the serialized `__provider`, and the stack's exports.
 *
 * Usage: node mock-program.cjs <program file> <<< '{"project":..,"stack":..,"config":{..},"secretKeys":[..],
 *        "stackReferences":{"org/proj/stack":{"outputs":{..},"secretOutputNames":[..]}}}'
 *
 * Plain JavaScript in its own process, because the closure serializer must see real compiled
 * modules (not vitest-transformed ones). TypeScript programs are loaded with the program's own
 * ts-node, as the Pulumi CLI's Node.js host does. Modules resolve from the program's directory.
 */
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { createRequire } = require("node:module");
const { pathToFileURL } = require("node:url");

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const programFile = path.resolve(process.argv[2]);
const settings = JSON.parse(fs.readFileSync(0, "utf8") || "{}");
const project = settings.project || "test-project";
const stack = settings.stack || "test";
const programDir = path.dirname(programFile);

process.env.PULUMI_CONFIG = JSON.stringify(settings.config || {});
process.env.PULUMI_CONFIG_SECRET_KEYS = JSON.stringify(settings.secretKeys || []);
process.chdir(programDir);

const fromProgram = createRequire(path.join(programDir, "__program__.js"));
const pulumi = fromProgram("@pulumi/pulumi");
const runtimeSettings = fromProgram("@pulumi/pulumi/runtime/settings");

const registered = [];
const markSecrets = (v) => {
  if (Array.isArray(v)) return v.map(markSecrets);
  if (v && typeof v === "object") {
    if (v[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270") return { secret: markSecrets(v.value) };
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, markSecrets(x)]));
  }
  return v;
};

pulumi.runtime.setMocks(
  {
    newResource(args) {
      if (args.type === "pulumi:pulumi:StackReference") {
        const ref = settings.stackReferences?.[args.inputs.name] || {};
        return {
          id: args.inputs.name,
          state: { name: args.inputs.name, outputs: ref.outputs || {}, secretOutputNames: ref.secretOutputNames || [] },
        };
      }
      // Echo inputs as state, with an id for custom resources, like a provider would.
      const id = `${args.name}-id`;
      const state = { ...args.inputs, integrationId: id, userId: "1000001" };
      delete state.__provider;
      return { id, state };
    },
    call(args) {
      return args.inputs;
    },
  },
  project,
  stack,
  settings.preview === true,
);

// Record the raw registration requests too: secretness and additionalSecretOutputs live there.
const monitor = runtimeSettings.getMonitor();
const register = monitor.registerResource.bind(monitor);
monitor.registerResource = (req, callback) => {
  const object = req.getObject().toJavaScript();
  const { __provider, ...inputs } = object;
  registered.push({
    type: req.getType(),
    name: req.getName(),
    custom: req.getCustom(),
    inputs: markSecrets(inputs),
    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    provider: __provider === undefined ? undefined : markSecrets(__provider),
  });
  return register(req, callback);
};

/** .mjs, or .js in a package whose nearest package.json says "type": "module". */
function isEsm(file) {
  if (file.endsWith(".mjs")) return true;
  if (!file.endsWith(".js")) return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest)) return JSON.parse(fs.readFileSync(manifest, "utf8")).type === "module";
    if (path.dirname(dir) === dir) return false;
  }
}

async function main() {
  if (programFile.endsWith(".ts")) {
    fromProgram("ts-node").register({
      transpileOnly: true,
      project: path.join(programDir, "tsconfig.json"),
    });
  }
  let exported;
  try {
    exported = await pulumi.runtime.runInPulumiStack(async () => {
      // ES modules are imported, CommonJS required, as the Pulumi Node.js host does.
      const mod = isEsm(programFile)
        ? { ...(await import(pathToFileURL(programFile).href)) }
        : fromProgram(programFile);
      return typeof mod.default === "function" ? mod.default() : mod;
    });
  } catch (error) {
    process.stdout.write(JSON.stringify({ error: String(error instanceof Error ? error.message : error) }));
    process.exitCode = 1;
    return;
  }
  await runtimeSettings.waitForRPCs();
  const outputs = await new Promise((resolve) => pulumi.output(exported || {}).apply(resolve));
  process.stdout.write(JSON.stringify({ registered, outputs: outputs === undefined ? null : outputs }));
}

main().catch((error) => {
  process.stdout.write(JSON.stringify({ error: String(error?.stack ? error.stack : error) }));
  process.exitCode = 1;
});
