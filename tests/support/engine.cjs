/**
 * Drives the real dynamic-provider gRPC server that ships in @pulumi/pulumi
 * (`cmd/dynamic-provider`), the way the Pulumi engine does: spawn it in the program directory,
 * read the port it prints, then call Configure / Check / Diff / Create / Read / Update / Delete
 * with Struct payloads that carry the serialized `__provider`.
 *
 * Plain CommonJS so that it can be used from vitest, from the packed-consumer test and from the
 * benchmark alike. Modules (@pulumi/pulumi, grpc, protobuf) resolve from `programDir`, as they
 * would for the engine's plugin.
 */
"use strict";
const { spawn } = require("node:child_process");
const path = require("node:path");
const { createRequire } = require("node:module");

/** The engine's encoding of a value that is unknown during preview. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const TYPE = "pulumi-nodejs:dynamic/sendgrid:SegmentIntegration";

/**
 * @param {object} o
 * @param {string} o.programDir directory the provider runs in (its node_modules are used)
 * @param {Record<string,string>} [o.env] extra environment for the provider process
 * @param {string} [o.node] node binary (default: this one)
 */
async function startProviderServer({ programDir, env = {}, node = process.execPath }) {
  const req = createRequire(path.join(programDir, "__engine__.js"));
  const entry = req.resolve("@pulumi/pulumi/cmd/dynamic-provider");
  return startPlugin({ command: node, args: [entry, "127.0.0.1:1"], cwd: programDir, env, req, type: TYPE });
}

/**
 * Starts a provider plugin as the engine does: `command ...args` (the last argument being the
 * engine's address) in `cwd`, reads the port it prints on stdout, and connects to it.
 *
 * @param {object} o
 * @param {string} o.command
 * @param {string[]} o.args
 * @param {string} o.cwd
 * @param {Record<string,string>} [o.env] extra environment (over this process's, unless o.bareEnv)
 * @param {boolean} [o.bareEnv] start from an empty environment
 * @param {NodeRequire} o.req resolves the gRPC client's modules
 * @param {string} o.type the resource type token
 */
async function startPlugin({ command, args, cwd, env = {}, bareEnv = false, req, type }) {
  // `127.0.0.1:1` among the arguments stands for the engine: a fake one (its health and log) is
  // served, and its address given instead, as the engine gives its own.
  const engine = args.includes(NO_ENGINE) ? await startFakeEngine({ req }) : undefined;
  if (engine) args = args.map((arg) => (arg === NO_ENGINE ? engine.address : arg));
  const started = Date.now();
  const child = spawn(command, args, {
    cwd,
    env: bareEnv ? env : { ...process.env, PULUMI_PROJECT: "sendgrid-integrations", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const port = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = /^(\d+)\s*$/m.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`${path.basename(command)} exited (${code}): ${stderr}`)));
  }).catch(async (error) => {
    await engine?.close();
    throw error;
  });
  const portPrintedAt = Date.now();
  const client = connect({ port, req, type });
  return {
    ...client,
    pid: child.pid,
    startedAt: started,
    portPrintedAt,
    get stderr() {
      return stderr;
    },
    /** The fake engine (its log), when one was served. */
    engine,
    /** The process's exit, once it has exited. */
    exited: new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal }))),
    async stop() {
      client.close();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      await engine?.close();
    },
  };
}

/** The engine address that stands for "the engine" in a plugin's arguments (see startPlugin). */
const NO_ENGINE = "127.0.0.1:1";

/**
 * A stand-in for the engine's own gRPC server, at the address a plugin is started with: the
 * `pulumirpc.Engine` log (recorded) and the standard health service (SERVING), which is what a
 * provider uses of it (pkg/resource/provider/serve.go at pulumi/pulumi 1b59498).
 *
 * @param {{ req: NodeRequire }} o
 */
async function startFakeEngine({ req }) {
  const grpc = req("@grpc/grpc-js");
  const engrpc = req("@pulumi/pulumi/proto/engine_grpc_pb");
  const engproto = req("@pulumi/pulumi/proto/engine_pb");
  const emptyproto = req("google-protobuf/google/protobuf/empty_pb");
  const logs = [];
  let healthChecks = 0;
  const server = new grpc.Server();
  server.addService(engrpc.EngineService, {
    log(call, callback) {
      const r = call.request;
      logs.push({ severity: r.getSeverity(), message: r.getMessage(), urn: r.getUrn() });
      callback(null, new emptyproto.Empty());
    },
    getRootResource(_call, callback) {
      callback(null, new engproto.GetRootResourceResponse());
    },
    setRootResource(_call, callback) {
      callback(null, new engproto.SetRootResourceResponse());
    },
    startDebugging(_call, callback) {
      callback(null, new emptyproto.Empty());
    },
  });
  server.register(
    "/grpc.health.v1.Health/Check",
    (_call, callback) => {
      healthChecks++;
      callback(null, Buffer.from([0x08, 0x01])); // HealthCheckResponse{status: SERVING}
    },
    (bytes) => bytes,
    (bytes) => bytes,
    "unary",
  );
  const port = await new Promise((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    logs,
    get healthChecks() {
      return healthChecks;
    },
    /** Stops serving at once: the engine is gone. */
    close: () =>
      new Promise((resolve) => server.tryShutdown(() => resolve(undefined))).then(() => server.forceShutdown()),
  };
}

/**
 * A ResourceProvider client on `port`, speaking as the engine does for resources of `type`: the
 * dynamic provider's server or the native plugin. Props are plain JavaScript; secrets travel as
 * the engine sends them (objects with Pulumi's signature key) when the caller puts them there.
 *
 * `req` resolves @grpc/grpc-js, @pulumi/pulumi and google-protobuf; `type` is the resource type
 * token URNs carry.
 *
 * @param {{ port: number, req: NodeRequire, type: string }} o
 */
function connect({ port, req, type }) {
  const grpc = req("@grpc/grpc-js");
  const provproto = req("@pulumi/pulumi/proto/provider_pb");
  const provrpc = req("@pulumi/pulumi/proto/provider_grpc_pb");
  const structproto = req("google-protobuf/google/protobuf/struct_pb");
  const emptyproto = req("google-protobuf/google/protobuf/empty_pb");
  const client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = (method, request) =>
    new Promise((resolve, reject) =>
      client[method](request, (err, res) =>
        err ? reject(Object.assign(new Error(err.details || err.message), { grpc: err })) : resolve(res),
      ),
    );
  const struct = (obj) => structproto.Struct.fromJavaScript(obj);
  const urn = (name) => `urn:pulumi:test::sendgrid-integrations::${type}::${name}`;
  const failuresOf = (res) => res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() }));
  const changesOf = (res) => {
    const changes = res.getChanges();
    return changes === provproto.DiffResponse.DiffChanges.DIFF_SOME
      ? true
      : changes === provproto.DiffResponse.DiffChanges.DIFF_NONE
        ? false
        : undefined;
  };
  const KIND = Object.fromEntries(Object.entries(provproto.PropertyDiff.Kind).map(([k, v]) => [v, k]));

  return {
    port,
    close: () => client.close(),
    async getPluginInfo() {
      const res = await call("getPluginInfo", new emptyproto.Empty());
      return { version: res.getVersion() };
    },
    async getSchema() {
      const res = await call("getSchema", new provproto.GetSchemaRequest());
      return JSON.parse(res.getSchema());
    },
    async checkConfig(olds, news) {
      const r = new provproto.CheckRequest();
      r.setUrn(`urn:pulumi:test::sendgrid-integrations::pulumi:providers:sendgrid-segment::default`);
      r.setOlds(struct(olds));
      r.setNews(struct(news));
      const res = await call("checkConfig", r);
      return { inputs: res.getInputs().toJavaScript(), failures: failuresOf(res) };
    },
    async diffConfig(olds, news) {
      const r = new provproto.DiffRequest();
      r.setUrn(`urn:pulumi:test::sendgrid-integrations::pulumi:providers:sendgrid-segment::default`);
      r.setOlds(struct({})); // the old provider's outputs: nothing of ours
      r.setOldInputs(struct(olds));
      r.setNews(struct(news));
      const res = await call("diffConfig", r);
      return { changes: changesOf(res), diffs: res.getDiffsList(), replaces: res.getReplacesList() };
    },
    /** Configure with provider inputs as `args` (secrets as given) and, like the engine, `variables` too. */
    async configureArgs(args) {
      const r = new provproto.ConfigureRequest();
      r.setArgs(struct(args));
      r.setAcceptsecrets(true);
      r.setAcceptresources(true);
      const res = await call("configure", r);
      return {
        acceptSecrets: res.getAcceptsecrets(),
        supportsPreview: res.getSupportspreview(),
        acceptResources: res.getAcceptresources(),
        acceptOutputs: res.getAcceptoutputs(),
      };
    },
    /** Configure as older engines did: `variables` only (`<package>:config:<key>` or `<package>:<key>`). */
    async configureVariables(variables) {
      const r = new provproto.ConfigureRequest();
      const vars = r.getVariablesMap();
      for (const [k, v] of Object.entries(variables)) vars.set(k, String(v));
      r.setAcceptsecrets(true);
      await call("configure", r);
    },
    /** Any other method by name, with an empty request of its type: for what a provider leaves unimplemented. */
    async raw(method, Request) {
      const plugproto = req("@pulumi/pulumi/proto/plugin_pb");
      const Type = !Request ? emptyproto.Empty : (provproto[Request] ?? plugproto[Request]);
      return call(method, new Type());
    },
    async invoke(tok, args) {
      const r = new provproto.InvokeRequest();
      r.setTok(tok);
      r.setArgs(struct(args));
      const res = await call("invoke", r);
      return { return: res.getReturn() ? res.getReturn().toJavaScript() : undefined, failures: failuresOf(res) };
    },
    async configure(variables) {
      const r = new provproto.ConfigureRequest();
      r.setArgs(struct(variables));
      const vars = r.getVariablesMap();
      for (const [k, v] of Object.entries(variables)) vars.set(k, String(v));
      r.setAcceptsecrets(true);
      r.setAcceptresources(true);
      const res = await call("configure", r);
      return { acceptSecrets: res.getAcceptsecrets() };
    },
    async check(name, olds, news, opts = {}) {
      const r = new provproto.CheckRequest();
      r.setUrn(urn(name));
      r.setName(name);
      r.setType(type);
      r.setOlds(struct(olds));
      r.setNews(struct(news));
      if (opts.randomSeed) r.setRandomseed(opts.randomSeed);
      const res = await call("check", r);
      return {
        inputs: res.getInputs().toJavaScript(),
        failures: res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
      };
    },
    async diff(name, id, olds, news, opts = {}) {
      const r = new provproto.DiffRequest();
      r.setUrn(urn(name));
      r.setName(name);
      r.setType(type);
      r.setId(id);
      r.setOlds(struct(olds));
      r.setNews(struct(news));
      if (opts.oldInputs) r.setOldInputs(struct(opts.oldInputs));
      if (opts.ignoreChanges) r.setIgnorechangesList(opts.ignoreChanges);
      const res = await call("diff", r);
      const detailedDiff = {};
      for (const [path, d] of res.getDetaileddiffMap().entries()) {
        detailedDiff[path] = { kind: KIND[d.getKind()], inputDiff: d.getInputdiff() };
      }
      return {
        changes: changesOf(res),
        replaces: res.getReplacesList(),
        stables: res.getStablesList(),
        diffs: res.getDiffsList(),
        deleteBeforeReplace: res.getDeletebeforereplace(),
        hasDetailedDiff: res.getHasdetaileddiff(),
        detailedDiff,
      };
    },
    async create(name, properties, opts = {}) {
      const r = new provproto.CreateRequest();
      r.setUrn(urn(name));
      r.setName(name);
      r.setType(type);
      r.setProperties(struct(properties));
      if (opts.preview) r.setPreview(true);
      if (opts.timeout) r.setTimeout(opts.timeout);
      const res = await call("create", r);
      return { id: res.getId(), properties: res.getProperties().toJavaScript() };
    },
    async read(name, id, properties, inputs, opts = {}) {
      const r = new provproto.ReadRequest();
      r.setUrn(urn(name));
      r.setName(name);
      r.setType(type);
      r.setId(id);
      if (opts.timeout) r.setTimeout(opts.timeout);
      if (properties !== undefined) r.setProperties(struct(properties));
      if (inputs !== undefined) r.setInputs(struct(inputs));
      const res = await call("read", r);
      return {
        id: res.getId(),
        properties: res.getProperties() ? res.getProperties().toJavaScript() : {},
        inputs: res.getInputs() ? res.getInputs().toJavaScript() : undefined,
      };
    },
    async update(name, id, olds, news, opts = {}) {
      const r = new provproto.UpdateRequest();
      r.setUrn(urn(name));
      r.setName(name);
      r.setType(type);
      r.setId(id);
      r.setOlds(struct(olds));
      r.setNews(struct(news));
      if (opts.oldInputs) r.setOldInputs(struct(opts.oldInputs));
      if (opts.ignoreChanges) r.setIgnorechangesList(opts.ignoreChanges);
      if (opts.preview) r.setPreview(true);
      if (opts.timeout) r.setTimeout(opts.timeout);
      const res = await call("update", r);
      return { properties: res.getProperties().toJavaScript() };
    },
    async delete(name, id, properties, opts = {}) {
      const r = new provproto.DeleteRequest();
      r.setUrn(urn(name));
      r.setName(name);
      r.setType(type);
      r.setId(id);
      r.setProperties(struct(properties));
      if (opts.oldInputs) r.setOldInputs(struct(opts.oldInputs));
      if (opts.timeout) r.setTimeout(opts.timeout);
      await call("delete", r);
    },
    /** Cancel, as the engine sends it on Ctrl-C and at every shutdown. */
    async cancel() {
      await call("cancel", new emptyproto.Empty());
    },
  };
}

/** Peak resident memory of a process in KiB (Linux), or undefined. */
function peakRssKiB(pid) {
  try {
    const status = require("node:fs").readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /^VmHWM:\s+(\d+) kB/m.exec(status);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

module.exports = { startProviderServer, startPlugin, startFakeEngine, connect, peakRssKiB, UNKNOWN, TYPE, NO_ENGINE };
