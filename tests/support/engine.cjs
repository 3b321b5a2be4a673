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
  const grpc = req("@grpc/grpc-js");
  const provproto = req("@pulumi/pulumi/proto/provider_pb");
  const provrpc = req("@pulumi/pulumi/proto/provider_grpc_pb");
  const structproto = req("google-protobuf/google/protobuf/struct_pb");
  const entry = req.resolve("@pulumi/pulumi/cmd/dynamic-provider");

  const started = Date.now();
  const child = spawn(node, [entry, "127.0.0.1:1"], {
    cwd: programDir,
    env: { ...process.env, PULUMI_PROJECT: "sendgrid-integrations", ...env },
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
    child.once("exit", (code) => reject(new Error(`dynamic provider exited (${code}): ${stderr}`)));
  });
  const client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = (method, request) =>
    new Promise((resolve, reject) =>
      client[method](request, (err, res) =>
        err ? reject(Object.assign(new Error(err.details || err.message), { grpc: err })) : resolve(res),
      ),
    );
  const struct = (obj) => structproto.Struct.fromJavaScript(obj);
  const urn = (name) => `urn:pulumi:test::sendgrid-integrations::${TYPE}::${name}`;

  return {
    port,
    pid: child.pid,
    startedAt: started,
    get stderr() {
      return stderr;
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
    async check(name, olds, news) {
      const r = new provproto.CheckRequest();
      r.setUrn(urn(name));
      r.setOlds(struct(olds));
      r.setNews(struct(news));
      const res = await call("check", r);
      return {
        inputs: res.getInputs().toJavaScript(),
        failures: res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
      };
    },
    async diff(name, id, olds, news) {
      const r = new provproto.DiffRequest();
      r.setUrn(urn(name));
      r.setId(id);
      r.setOlds(struct(olds));
      r.setNews(struct(news));
      const res = await call("diff", r);
      const changes = res.getChanges();
      return {
        changes:
          changes === provproto.DiffResponse.DiffChanges.DIFF_SOME
            ? true
            : changes === provproto.DiffResponse.DiffChanges.DIFF_NONE
              ? false
              : undefined,
        replaces: res.getReplacesList(),
        stables: res.getStablesList(),
      };
    },
    async create(name, properties) {
      const r = new provproto.CreateRequest();
      r.setUrn(urn(name));
      r.setProperties(struct(properties));
      const res = await call("create", r);
      return { id: res.getId(), properties: res.getProperties().toJavaScript() };
    },
    async read(name, id, properties) {
      const r = new provproto.ReadRequest();
      r.setUrn(urn(name));
      r.setId(id);
      r.setProperties(struct(properties));
      const res = await call("read", r);
      return {
        id: res.getId(),
        properties: res.getProperties() ? res.getProperties().toJavaScript() : {},
        inputs: res.getInputs() ? res.getInputs().toJavaScript() : undefined,
      };
    },
    async update(name, id, olds, news) {
      const r = new provproto.UpdateRequest();
      r.setUrn(urn(name));
      r.setId(id);
      r.setOlds(struct(olds));
      r.setNews(struct(news));
      const res = await call("update", r);
      return { properties: res.getProperties().toJavaScript() };
    },
    async delete(name, id, properties) {
      const r = new provproto.DeleteRequest();
      r.setUrn(urn(name));
      r.setId(id);
      r.setProperties(struct(properties));
      await call("delete", r);
    },
    async stop() {
      client.close();
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
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

module.exports = { startProviderServer, peakRssKiB, UNKNOWN, TYPE };
