#!/usr/bin/env node
// npm run bench [-- --n 60 --rounds 5 --latency-ms 50 --concurrency 10 --rate 20 --rate-n 60]
//
// Measures, on loopback against the emulator, side by side:
//  1. overhead: N integrations (spread over subusers to stay under 10 per account) created, read,
//     updated and deleted through the real dynamic-provider gRPC server with the serialized
//     __provider, vs the same HTTP requests made bare with got at the same concurrency
//     (median of --rounds rounds);
//  2. rate limit: N creates under the emulator's rate limit of R requests/s (X-RateLimit-* headers),
//     wall time vs the floor (N - burst) / R, and failures;
//  3. API calls per operation: create, update, refresh, delete, preview;
//  4. cold start: spawning the provider server to the first Create response, vs an empty provider;
//     footprint: __provider bytes per resource and the provider process's peak RSS;
//  5. refresh at scale (issue 23): a refresh of --refresh-n integrations spread over --places places
//     (subusers, 10 each at most): requests sent and wall time through each door, beside per-id
//     reads (one GET each, what 0.3.0 sent) made bare at the same concurrency; and the same refresh
//     against an API rate-limited to --rate requests/s, beside the floor of those per-id reads;
//  6. check of --bad-events bad event values (issue 23: once quadratic): time in process.
// The native plugin (issue 18) runs beside the dynamic provider in 1 and 4: the executable from
// `npm run build:plugin` (dist/plugin/bin), or --plugin <command> (e.g. "node dist/provider/native/main.js").
// Prints a table, writes the figures as JSON (--out, default bench/results.json).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
const requireRepo = createRequire(join(REPO, "package.json"));
const { startProviderServer, startPlugin, peakRssKiB } = requireRepo("./tests/support/engine.cjs");
const RESOURCE_TOKEN = "sendgrid-segment:index:SegmentIntegration";
const { startEmulator } = requireRepo("./dist/emulator/index.js");
const pulumi = requireRepo("@pulumi/pulumi");

/**
 * Bad input: one line naming it, no stack trace, nothing written.
 * @param {string} message
 * @returns {never}
 */
const fail = (message) => {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
};
const parse = () => {
  try {
    return parseArgs({
      options: {
        n: { type: "string", default: "60" },
        rounds: { type: "string", default: "5" },
        "latency-ms": { type: "string", default: "50" },
        concurrency: { type: "string", default: "10" },
        rate: { type: "string", default: "20" },
        "rate-n": { type: "string", default: "60" },
        "cold-runs": { type: "string", default: "5" },
        "refresh-n": { type: "string", default: "50" },
        places: { type: "string", default: "5" },
        "bad-events": { type: "string", default: "100000" },
        plugin: { type: "string", default: join(REPO, "dist/plugin/bin/pulumi-resource-sendgrid-segment") },
        out: { type: "string", default: join(REPO, "bench", "results.json") },
      },
      strict: true,
    }).values;
  } catch (error) {
    return fail(/** @type {Error} */ (error).message);
  }
};
const opt = parse();
/** A whole number of at least `min` from a flag, or a one-line failure naming it. */
const whole = (flag, min = 1) => {
  const n = Number(opt[flag]);
  if (!Number.isInteger(n) || n < min)
    fail(`--${flag} must be a whole number from ${min}, got ${JSON.stringify(opt[flag])}`);
  return n;
};
const N = whole("n");
const ROUNDS = whole("rounds");
const LATENCY = whole("latency-ms", 0);
const C = whole("concurrency");
const RATE = whole("rate");
const RATE_N = whole("rate-n");
const COLD_RUNS = whole("cold-runs");
const REFRESH_N = whole("refresh-n");
const PLACES = whole("places");
const BAD_EVENTS = whole("bad-events");
if (Math.ceil(REFRESH_N / PLACES) > 10) fail(`--refresh-n ${REFRESH_N} over --places ${PLACES}: at most 10 per place`);
const PLUGIN = opt.plugin.split(" ");
const PLUGIN_FILE = PLUGIN.at(-1) ?? "";
if (!existsSync(PLUGIN_FILE))
  fail(`--plugin: ${PLUGIN_FILE} does not exist (run npm run build:plugin, or give --plugin)`);

/** The native plugin as the engine starts it, configured for `url`. */
async function startNative(url) {
  const plugin = await startPlugin({
    command: PLUGIN[0],
    args: [...PLUGIN.slice(1), "127.0.0.1:1"],
    cwd: REPO,
    req: requireRepo,
    type: RESOURCE_TOKEN,
  });
  await plugin.configureArgs({ apiKey: API_KEY, apiBaseUrl: url });
  return plugin;
}
if (!existsSync(dirname(resolve(opt.out))))
  fail(`--out ${opt.out}: the folder ${dirname(resolve(opt.out))} does not exist`);
const API_KEY = "SG.bench-key";
const PER_ACCOUNT = 8; // under SendGrid's 10
const BASE = "v3/marketing/integrations";

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
async function pool(count, concurrency, fn) {
  let next = 0;
  const results = new Array(count);
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await fn(i);
      }
    }),
  );
  return results;
}
const timed = async (fn) => {
  const t = performance.now();
  const result = await fn();
  return { ms: performance.now() - t, result };
};

/**
 * CPU time (user + system, ms) a process has used: /proc/<pid>/stat on Linux (clock ticks of
 * 10 ms), undefined elsewhere. Unlike wall time, it barely moves with the machine's other load.
 */
const cpuMs = (pid) => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
};

/** Child processes to end however the benchmark ends (they would hold its output open). */
const children = new Set();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

/** The emulator in its own process (so neither path shares its event loop), printing its URL. */
async function emulatorProcess(args) {
  const child = spawn(process.execPath, [join(REPO, "dist/emulator/cli.js"), "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.add(child);
  const url = await new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(String(d));
      if (m) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`emulator exited ${code}`)));
  });
  return {
    url,
    stop: () => {
      child.kill("SIGTERM");
      children.delete(child);
    },
  };
}

/** The __provider the root program really serializes (run under setMocks, as in the tests). */
async function serializedProvider() {
  const child = spawn(process.execPath, [join(REPO, "tests/support/mock-program.cjs"), join(REPO, "index.ts")], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const key = "sendgrid-integrations:integrations";
  child.stdin.end(
    JSON.stringify({
      project: "sendgrid-integrations",
      config: { [key]: JSON.stringify([{ name: "bench", events: ["open"], region: "US", writeKey: "wk_bench_0001" }]) },
      secretKeys: [key],
    }),
  );
  let out = "";
  for await (const chunk of child.stdout) out += chunk;
  const run = JSON.parse(out);
  if (run.error) throw new Error(run.error);
  return run.registered.find((r) => r.name === "bench").provider;
}

/** Inputs as the engine sends them; `undefined` drops a key (a gRPC Struct cannot hold it). */
const news = (provider, i, extra = {}) => {
  const inputs = {
    label: `Bench ${i}`,
    filters: { emailEvents: ["open", "click", "delivered"] },
    properties: { writeKey: `wk_bench_${String(i).padStart(4, "0")}`, destinationRegion: "US" },
    onBehalfOf: `bench-sub-${Math.floor(i / PER_ACCOUNT)}`,
    ...extra,
    __provider: provider,
  };
  for (const key of Object.keys(inputs)) if (inputs[key] === undefined) delete inputs[key];
  return inputs;
};

/**
 * The least a dynamic provider can be: the same four HTTP calls with got, no validation, no
 * mapping logic beyond the wire shape, no retries. Serialized and driven exactly like ours, it
 * measures what the dynamic-provider runtime's gRPC hop costs by itself.
 */
async function minimalProvider(url, apiKey) {
  const base = "v3/marketing/integrations";
  const http = () =>
    import(require("node:module").createRequire(`${process.cwd()}/`).resolve("got")).then((m) =>
      m.default.extend({
        prefixUrl: url,
        headers: { authorization: `Bearer ${apiKey}` },
        responseType: "json",
        retry: { limit: 0 },
      }),
    );
  const body = (p) => ({
    label: p.label,
    destination: "Segment",
    filters: { email_events: p.filters.emailEvents },
    properties: { write_key: p.properties.writeKey, destination_region: p.properties.destinationRegion },
  });
  const headers = (p) => (p.onBehalfOf ? { "on-behalf-of": p.onBehalfOf } : {});
  const provider = {
    check: async (_olds, news) => ({ inputs: news }),
    diff: async () => ({ changes: true }),
    create: async (p) => {
      const out = await (await http()).post(base, { json: body(p), headers: headers(p) }).json();
      return { id: out.integration_id, outs: { ...p } };
    },
    read: async (id, p) => {
      await (await http()).get(`${base}/${id}`, { headers: headers(p) }).json();
      return { id, props: p };
    },
    update: async (id, _olds, p) => {
      await (await http()).patch(`${base}/${id}`, { json: body(p), headers: headers(p) }).json();
      return { outs: p };
    },
    delete: async (id, p) => {
      await (await http()).delete(base, { searchParams: { ids: id }, headers: headers(p) }).text();
    },
  };
  return (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })).text;
}

// 1. Overhead ------------------------------------------------------------------------------
async function overhead(provider) {
  const emulator = await emulatorProcess(["--latency-ms", String(LATENCY), "--api-key", API_KEY]);
  const server = await startProviderServer({ programDir: REPO });
  await server.configure({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url });
  const native = await startNative(emulator.url);
  // Deletes run in a destroy's own provider process, as the engine runs them: it never deletes a
  // resource in the run that diffed it (step_generator.go GenerateDeletes at pulumi/pulumi 1b59498).
  const serverDestroyer = await startProviderServer({ programDir: REPO });
  await serverDestroyer.configure({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url });
  const nativeDestroyer = await startNative(emulator.url);
  const { default: got } = await import("got");
  const bare = got.extend({
    prefixUrl: emulator.url,
    headers: { authorization: `Bearer ${API_KEY}` },
    responseType: "json",
    retry: { limit: 0 },
  });
  const wire = (i, label) => {
    const n = news("", i, label ? { label } : {});
    return {
      label: n.label,
      destination: "Segment",
      filters: { email_events: n.filters.emailEvents },
      properties: { write_key: n.properties.writeKey, destination_region: "US" },
    };
  };
  const behalf = (i) => ({ "on-behalf-of": news("", i).onBehalfOf });

  const minimal = await minimalProvider(emulator.url, API_KEY);
  // The engine's calls per step: Check + Create; Read; Diff + Update; Delete.
  // Each phase's CPU time in the provider's own process, per operation (the second half of the result).
  const cpu = {};
  const measured = async (key, server, run) => {
    const before = cpuMs(server.pid);
    const result = await run();
    const after = cpuMs(server.pid);
    if (before !== undefined && after !== undefined) {
      cpu[key] ??= [];
      cpu[key].push((after - before) / N);
    }
    return result;
  };
  const viaProvider = async (provider, server, door, destroyer) => {
    const state = new Array(N);
    const phase = {};
    const timedCpu = (op, run) => measured(`${door} ${op}`, server, () => timed(run));
    phase.create = (
      await timedCpu("create", () =>
        pool(N, C, async (i) => {
          const checked = await server.check(`r${i}`, {}, news(provider, i));
          const created = await server.create(`r${i}`, checked.inputs);
          state[i] = created;
        }),
      )
    ).ms;
    phase.read = (
      await timedCpu("read", () => pool(N, C, (i) => server.read(`r${i}`, state[i].id, state[i].properties)))
    ).ms;
    phase.update = (
      await timedCpu("update", () =>
        pool(N, C, async (i) => {
          const desired = (
            await server.check(`r${i}`, state[i].properties, news(provider, i, { label: `Bench ${i} v2` }))
          ).inputs;
          await server.diff(`r${i}`, state[i].id, state[i].properties, desired);
          state[i].properties = (await server.update(`r${i}`, state[i].id, state[i].properties, desired)).properties;
        }),
      )
    ).ms;
    phase.delete = (
      await measured(`${door} delete`, destroyer, () =>
        timed(() => pool(N, C, (i) => destroyer.delete(`r${i}`, state[i].id, state[i].properties))),
      )
    ).ms;
    return phase;
  };
  const viaBare = async () => {
    const ids = new Array(N);
    const phase = {};
    phase.create = (
      await timed(() =>
        pool(N, C, async (i) => {
          ids[i] = (await bare.post(BASE, { json: wire(i), headers: behalf(i) }).json()).integration_id;
        }),
      )
    ).ms;
    phase.read = (
      await timed(() => pool(N, C, (i) => bare.get(`${BASE}/${ids[i]}`, { headers: behalf(i) }).json()))
    ).ms;
    phase.update = (
      await timed(() =>
        pool(N, C, (i) =>
          bare.patch(`${BASE}/${ids[i]}`, { json: wire(i, `Bench ${i} v2`), headers: behalf(i) }).json(),
        ),
      )
    ).ms;
    phase.delete = (
      await timed(() =>
        pool(N, C, (i) => bare.delete(BASE, { searchParams: { ids: ids[i] }, headers: behalf(i) }).text()),
      )
    ).ms;
    return phase;
  };

  const paths = {
    provider: () => viaProvider(provider, server, "provider", serverDestroyer),
    minimal: () => viaProvider(minimal, server, "minimal", serverDestroyer),
    native: () => viaProvider(undefined, native, "native", nativeDestroyer),
    bare: viaBare,
  };
  for (const run of Object.values(paths)) await run(); // warm every path once (JIT, connections)
  const rounds = [];
  const order = Object.keys(paths);
  for (let r = 0; r < ROUNDS; r++) {
    // Rotate which goes first, so drift on the machine does not favour one.
    const round = {};
    for (const name of [...order.slice(r % order.length), ...order.slice(0, r % order.length)]) {
      round[name] = await paths[name]();
    }
    rounds.push(round);
  }
  // The runtime's gRPC hop alone: Diff makes no API call and our diff takes about 1 µs.
  const same = news(provider, 0);
  for (let i = 0; i < 100; i++) await server.diff("rtt", "id", same, same);
  const sequential = await timed(async () => {
    for (let i = 0; i < 300; i++) await server.diff("rtt", "id", same, same);
  });
  const waves = await timed(() =>
    Promise.all(
      Array.from({ length: C }, async () => {
        for (let i = 0; i < 30; i++) await server.diff("rtt", "id", same, same);
      }),
    ),
  );
  const grpcHop = { sequentialMs: round(sequential.ms / 300, 3), concurrentWaveMs: round(waves.ms / 30, 2) };
  const rssKiB = peakRssKiB(server.pid);
  const nativeRssKiB = peakRssKiB(native.pid);
  await server.stop();
  await native.stop();
  await serverDestroyer.stop();
  await nativeDestroyer.stop();
  emulator.stop();
  const ops = {};
  for (const op of ["create", "read", "update", "delete"]) {
    const p = median(rounds.map((r) => r.provider[op]));
    const m = median(rounds.map((r) => r.minimal[op]));
    const b = median(rounds.map((r) => r.bare[op]));
    const n = median(rounds.map((r) => r.native[op]));
    ops[op] = {
      providerMs: round(p, 1),
      minimalProviderMs: round(m, 1),
      nativeMs: round(n, 1),
      bareMs: round(b, 1),
      ratio: round(p / b, 3),
      ratioToMinimal: round(p / m, 3),
      minimalRatio: round(m / b, 3),
      nativeRatio: round(n / b, 3),
      nativeToDynamic: round(n / p, 3),
      // CPU ms per operation in each door's provider process (median over the rounds, warm-up left out).
      providerCpuMs: cpu[`provider ${op}`] ? round(median(cpu[`provider ${op}`].slice(1)), 2) : null,
      nativeCpuMs: cpu[`native ${op}`] ? round(median(cpu[`native ${op}`].slice(1)), 2) : null,
    };
  }
  return { ops, rssKiB, nativeRssKiB, grpcHop };
}

// 2. Rate limit ----------------------------------------------------------------------------
async function rateLimited(provider) {
  const emulator = await emulatorProcess([
    "--latency-ms",
    String(LATENCY),
    "--api-key",
    API_KEY,
    "--rate-limit",
    String(RATE),
    "--limit",
    "1000",
  ]);
  const server = await startProviderServer({ programDir: REPO });
  await server.configure({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url });
  // Checks are local; what is rate limited is the creates, all issued at once as pulumi up would.
  const checked = await Promise.all(
    Array.from({ length: RATE_N }, (_, i) => server.check(`rl${i}`, {}, news(provider, i, { onBehalfOf: undefined }))),
  );
  let failures = 0;
  const startedAt = Date.now();
  const { ms } = await timed(() =>
    Promise.all(checked.map((c, i) => server.create(`rl${i}`, c.inputs).catch(() => failures++))),
  );
  await server.stop();
  emulator.stop();
  const floorMs = (Math.max(0, RATE_N - RATE) / RATE) * 1000;
  // The emulator's windows (like SendGrid's) reset on whole seconds, so the first window is
  // partial: the earliest any client can finish is the (windows - 1)th reset after the start.
  const windows = Math.ceil(RATE_N / RATE);
  const toFirstReset = 1000 - (startedAt % 1000);
  const windowFloorMs = windows <= 1 ? 0 : toFirstReset + (windows - 2) * 1000;
  return {
    n: RATE_N,
    ratePerSecond: RATE,
    burst: RATE,
    wallMs: round(ms, 0),
    floorMs,
    ratio: round(ms / floorMs, 3),
    windowFloorMs,
    windowRatio: round(ms / Math.max(windowFloorMs, 1), 3),
    failures,
  };
}

// 3. API calls per operation -----------------------------------------------------------------
async function apiCalls(provider) {
  const emulator = await startEmulator({ apiKeys: [API_KEY] });
  const server = await startProviderServer({ programDir: REPO });
  await server.configure({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url });
  const count = async (fn) => {
    emulator.requests.length = 0;
    await fn();
    return emulator.requests.length;
  };
  let state;
  const calls = {};
  calls.preview = await count(async () => {
    await server.check("a", {}, news(provider, 0));
  });
  calls.create = await count(async () => {
    const checked = await server.check("a", {}, news(provider, 0));
    state = await server.create("a", checked.inputs);
  });
  calls.previewOfChange = await count(async () => {
    const desired = (await server.check("a", state.properties, news(provider, 0, { label: "Changed" }))).inputs;
    await server.diff("a", state.id, state.properties, desired);
  });
  calls.update = await count(async () => {
    const desired = (await server.check("a", state.properties, news(provider, 0, { label: "Changed" }))).inputs;
    await server.diff("a", state.id, state.properties, desired);
    state.properties = (await server.update("a", state.id, state.properties, desired)).properties;
  });
  calls.refresh = await count(() => server.read("a", state.id, state.properties));
  // A destroy is a deployment of its own, with its own provider process: the engine never deletes a
  // resource in the run that diffed it (step_generator.go GenerateDeletes at pulumi/pulumi 1b59498).
  const destroyer = await startProviderServer({ programDir: REPO });
  await destroyer.configure({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url });
  calls.delete = await count(() => destroyer.delete("a", state.id, state.properties));
  await destroyer.stop();
  await server.stop();
  await emulator.close();
  return calls;
}

// 4. Cold start and footprint -----------------------------------------------------------------
async function coldStart(provider) {
  const emulator = await startEmulator({ apiKeys: [API_KEY] });
  const empty = await pulumi.runtime.serializeFunction(() => ({ create: async () => ({ id: "x", outs: {} }) }), {
    isFactoryFunction: false,
    allowSecrets: true,
  });
  const once = async (providerText) => {
    const started = performance.now();
    const server = await startProviderServer({ programDir: REPO });
    await server.configure({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url });
    const checked = await server.check("cold", {}, news(providerText, 0, { onBehalfOf: undefined }));
    await server.create("cold", checked.inputs);
    const ms = performance.now() - started;
    const rss = peakRssKiB(server.pid);
    await server.stop();
    return { ms, rss };
  };
  const onceNative = async () => {
    const started = performance.now();
    const plugin = await startNative(emulator.url);
    const portMs = plugin.portPrintedAt - plugin.startedAt;
    const checked = await plugin.check("cold", {}, news(undefined, 0, { onBehalfOf: undefined }));
    await plugin.create("cold", checked.inputs);
    const ms = performance.now() - started;
    const rss = peakRssKiB(plugin.pid);
    await plugin.stop();
    return { ms, rss, portMs };
  };
  const ours = [];
  const baseline = [];
  const native = [];
  for (let r = 0; r < COLD_RUNS; r++) {
    baseline.push(await once(empty.text));
    ours.push(await once(provider));
    native.push(await onceNative());
  }
  await emulator.close();
  const o = median(ours.map((x) => x.ms));
  const b = median(baseline.map((x) => x.ms));
  return {
    providerMs: round(o, 0),
    emptyProviderMs: round(b, 0),
    deltaMs: round(o - b, 0),
    peakRssKiB: median(ours.map((x) => x.rss)),
    emptyPeakRssKiB: median(baseline.map((x) => x.rss)),
    nativeMs: round(median(native.map((x) => x.ms)), 0),
    nativeStartMs: round(median(native.map((x) => x.portMs)), 0),
    nativePeakRssKiB: median(native.map((x) => x.rss)),
    plugin: opt.plugin,
  };
}

// 5. Refresh at scale -----------------------------------------------------------------------
/**
 * `pulumi refresh` of REFRESH_N integrations spread over PLACES subusers: every read at once, C at a
 * time, through a fresh provider process of each door (a refresh is a deployment of its own),
 * beside per-id reads (one GET each, what 0.3.0 sent for a refresh) made bare at the same
 * concurrency; plain, and against an API rate-limited to RATE requests/s. The emulator runs in
 * this process here, so that it can count the requests each refresh sent.
 */
async function refreshAtScale(provider) {
  const place = (i) => `place-${i % PLACES}`;
  const seed = (emulator) =>
    Array.from({ length: REFRESH_N }, (_, i) =>
      emulator.seed(
        {
          label: `Bench ${i}`,
          destination: "Segment",
          filters: { email_events: ["click", "delivered", "open"] },
          properties: { write_key: `wk_bench_${String(i).padStart(4, "0")}`, destination_region: "US" },
        },
        place(i),
      ),
    );
  // State as the engine holds it for each: the outputs of a create.
  const outputs = (i, id, userId) => ({
    ...news(provider, i, { onBehalfOf: place(i) }),
    integrationId: id,
    userId,
    stateVersion: 3,
  });
  const doors = {
    "dynamic provider": async (url) => {
      const server = await startProviderServer({ programDir: REPO });
      await server.configure({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": url });
      return { read: (i, id, props) => server.read(`f${i}`, id, props), stop: () => server.stop(), dynamic: true };
    },
    "native plugin": async (url) => {
      const plugin = await startNative(url);
      return {
        read: (i, id, { __provider: _p, ...props }) => plugin.read(`f${i}`, id, props),
        stop: () => plugin.stop(),
        dynamic: false,
      };
    },
  };
  const run = async (limited) => {
    const emulator = await startEmulator({
      apiKeys: [API_KEY],
      latencyMs: LATENCY,
      limit: 10,
      ...(limited ? { rateLimit: { limit: RATE } } : {}),
    });
    const live = seed(emulator);
    const rows = [];
    for (const [label, start] of Object.entries(doors)) {
      const door = await start(emulator.url);
      await sleepUntilNextWindow(limited);
      const before = emulator.requests.length;
      const { ms } = await timed(() =>
        pool(REFRESH_N, C, (i) =>
          door.read(i, live[i].integration_id, outputs(i, live[i].integration_id, live[i].user_id)),
        ),
      );
      rows.push({ label, requests: emulator.requests.length - before, wallMs: round(ms, 0) });
      await door.stop();
    }
    const { default: got } = await import("got");
    const bare = got.extend({
      prefixUrl: emulator.url,
      headers: { authorization: `Bearer ${API_KEY}` },
      responseType: "json",
      retry: {
        limit: 10,
        statusCodes: [429],
        // A 429 waits until X-RateLimit-Reset, as a client should.
        calculateDelay: ({ attemptCount, error }) => {
          if (attemptCount > 10 || error.response?.statusCode !== 429) return 0;
          const reset = Number(error.response.headers["x-ratelimit-reset"]);
          return Math.max(1, reset * 1000 - Date.now());
        },
      },
    });
    await sleepUntilNextWindow(limited);
    const before = emulator.requests.length;
    const { ms } = await timed(() =>
      pool(REFRESH_N, C, (i) =>
        bare.get(`${BASE}/${live[i].integration_id}`, { headers: { "on-behalf-of": place(i) } }).json(),
      ),
    );
    rows.push({
      label: "per-id reads (one GET each, as 0.3.0 refreshed)",
      requests: emulator.requests.length - before,
      wallMs: round(ms, 0),
    });
    await emulator.close();
    return rows;
  };
  // A rate-limited run starts at a window's start, so each path has the same budget of requests.
  async function sleepUntilNextWindow(limited) {
    if (limited) await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
  }
  return {
    n: REFRESH_N,
    places: PLACES,
    ratePerSecond: RATE,
    perIdFloorMs: (Math.max(0, REFRESH_N - RATE) / RATE) * 1000,
    plain: await run(false),
    rateLimited: await run(true),
  };
}

// 6. check at scale --------------------------------------------------------------------------
async function checkAtScale() {
  const { checkInputs } = requireRepo("./dist/provider/schema.js");
  const inputs = {
    label: "Many",
    filters: { emailEvents: Array.from({ length: BAD_EVENTS }, (_, i) => `bad${i}`) },
    properties: { writeKey: "wk_bench_0001", destinationRegion: "US" },
  };
  const { ms, result } = await timed(async () => checkInputs(inputs));
  return { badEvents: BAD_EVENTS, ms: round(ms, 0), failures: result.failures.length };
}

// ------------------------------------------------------------------------------------------
const provider = await serializedProvider();
const results = {
  when: new Date().toISOString(),
  machine: {
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? "unknown"}`,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    pulumi: requireRepo("@pulumi/pulumi/package.json").version,
  },
  settings: { n: N, rounds: ROUNDS, latencyMs: LATENCY, concurrency: C, ratePerSecond: RATE, rateN: RATE_N },
  overhead: await overhead(provider),
  rateLimit: await rateLimited(provider),
  apiCalls: await apiCalls(provider),
  coldStart: await coldStart(provider),
  footprint: { providerBytes: Buffer.byteLength(provider) },
  refresh: await refreshAtScale(provider),
  check: await checkAtScale(),
};

const targets = [
  ...Object.entries(results.overhead.ops).map(([op, r]) => [
    `overhead ${op}: provider/bare`,
    r.ratio,
    "<= 1.05",
    r.ratio <= 1.05,
  ]),
  ...Object.entries(results.overhead.ops).map(([op, r]) => [
    `native ${op}: native plugin/dynamic provider`,
    r.nativeToDynamic,
    "<= 1.00",
    r.nativeToDynamic <= 1,
  ]),
  ["rate limit: wall / floor", results.rateLimit.ratio, "<= 1.15", results.rateLimit.ratio <= 1.15],
  [
    "rate limit: wall / window-aware floor",
    results.rateLimit.windowRatio,
    "<= 1.15",
    results.rateLimit.windowRatio <= 1.15,
  ],
  ["rate limit: failures", results.rateLimit.failures, "0", results.rateLimit.failures === 0],
  ...["create", "update", "refresh", "delete"].map((op) => [
    `API calls: ${op}`,
    results.apiCalls[op],
    "1",
    results.apiCalls[op] === 1,
  ]),
  [
    "API calls: preview",
    results.apiCalls.preview + results.apiCalls.previewOfChange,
    "0",
    results.apiCalls.preview + results.apiCalls.previewOfChange === 0,
  ],
  ["cold start: + vs empty provider (ms)", results.coldStart.deltaMs, "<= 100", results.coldStart.deltaMs <= 100],
  [
    "__provider bytes per resource",
    results.footprint.providerBytes,
    "<= 2048",
    results.footprint.providerBytes <= 2048,
  ],
  ...results.refresh.plain
    .filter((r) => !r.label.startsWith("per-id"))
    .map((r) => [
      `refresh of ${REFRESH_N} in ${PLACES} places: requests (${r.label})`,
      r.requests,
      `${PLACES}`,
      r.requests === PLACES,
    ]),
  ...results.refresh.rateLimited
    .filter((r) => !r.label.startsWith("per-id"))
    .map((r) => [
      `refresh at ${RATE}/s: wall (ms) vs per-id floor ${results.refresh.perIdFloorMs} ms (${r.label})`,
      r.wallMs,
      `< ${results.refresh.perIdFloorMs}`,
      r.wallMs < results.refresh.perIdFloorMs,
    ]),
  [`check of ${BAD_EVENTS} bad events (ms)`, results.check.ms, "< 2000", results.check.ms < 2000],
  [`check of ${BAD_EVENTS} bad events: failures`, results.check.failures, "1", results.check.failures === 1],
];
results.targets = targets.map(([name, value, target, met]) => ({ name, value, target, met }));

const lines = [];
lines.push(
  `machine: ${results.machine.cpus}, ${results.machine.memoryGiB} GiB, node ${results.machine.node}, @pulumi/pulumi ${results.machine.pulumi}`,
);
lines.push(
  `settings: N=${N}, rounds=${ROUNDS}, latency=${LATENCY} ms, concurrency=${C}, rate=${RATE}/s over ${RATE_N} creates`,
);
lines.push("");
lines.push(
  "operation | provider (ms) | minimal provider (ms) | native plugin (ms) | bare (ms) | provider/bare | minimal/bare | provider/minimal | native/dynamic | CPU ms/op dynamic | CPU ms/op native",
);
for (const [op, r] of Object.entries(results.overhead.ops)) {
  lines.push(
    `${op} | ${r.providerMs} | ${r.minimalProviderMs} | ${r.nativeMs} | ${r.bareMs} | ${r.ratio} | ${r.minimalRatio} | ${r.ratioToMinimal} | ${r.nativeToDynamic} | ${r.providerCpuMs} | ${r.nativeCpuMs}`,
  );
}
lines.push("");
const rl = results.rateLimit;
lines.push(
  `rate limit: ${rl.n} creates at ${rl.ratePerSecond}/s: wall ${rl.wallMs} ms; floor (N - burst)/R ${rl.floorMs} ms, ratio ${rl.ratio}; ` +
    `window-aware floor ${rl.windowFloorMs} ms, ratio ${rl.windowRatio}; failures ${rl.failures}`,
);
lines.push(
  `gRPC hop (Diff, no API call): ${results.overhead.grpcHop.sequentialMs} ms per sequential call, ` +
    `${results.overhead.grpcHop.concurrentWaveMs} ms per wave of ${C} concurrent calls`,
);
lines.push(`API calls: ${JSON.stringify(results.apiCalls)}`);
const cs = results.coldStart;
lines.push(
  `cold start to first Create: ${cs.providerMs} ms vs empty provider ${cs.emptyProviderMs} ms (+${cs.deltaMs} ms); ` +
    `native plugin ${cs.nativeMs} ms (its port printed after ${cs.nativeStartMs} ms, peak RSS ${cs.nativePeakRssKiB} KiB)`,
);
lines.push(
  `footprint: __provider ${results.footprint.providerBytes} bytes; provider peak RSS ${cs.peakRssKiB} KiB cold, ${results.overhead.rssKiB} KiB after ${N} x 4 operations x ${ROUNDS + 1} rounds (empty provider: ${cs.emptyPeakRssKiB} KiB)`,
);
const rf = results.refresh;
lines.push(`refresh of ${rf.n} integrations in ${rf.places} places (requests, wall ms):`);
for (const r of rf.plain) lines.push(`  ${r.label}: ${r.requests} requests, ${r.wallMs} ms`);
lines.push(`  at ${rf.ratePerSecond} requests/s (per-id floor ${rf.perIdFloorMs} ms):`);
for (const r of rf.rateLimited) lines.push(`    ${r.label}: ${r.requests} requests, ${r.wallMs} ms`);
lines.push(
  `check of ${results.check.badEvents} bad events: ${results.check.ms} ms, ${results.check.failures} failure(s)`,
);
lines.push("");
lines.push("target | value | wanted | met");
for (const t of results.targets) lines.push(`${t.name} | ${t.value} | ${t.target} | ${t.met ? "yes" : "NO"}`);
console.log(lines.join("\n"));

mkdirSync(dirname(opt.out), { recursive: true });
writeFileSync(opt.out, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nfigures written to ${opt.out}`);
