// In process (so mutation testing sees them): what bounds an operation from outside (control.ts:
// the engine's custom timeout and Cancel, and the waits that stop with them), and the link back to
// the engine that started the provider (engine.ts: its log, which the CLI shows beside the
// resource, and its health, whose loss makes the plugin exit).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { controlFor, Stopped, sleep, stoppedBy, UNBOUNDED } from "../provider/control";
import { EngineLink, type EngineModules, fromPulumi, Severity } from "../provider/engine";
import { startFakeEngine } from "./support/engine.cjs";

const REPO = join(__dirname, "..");
const req = createRequire(join(REPO, "package.json"));
const grpc = req("@grpc/grpc-js");
const MODULES: EngineModules = {
  grpc,
  engrpc: req("@pulumi/pulumi/proto/engine_grpc_pb"),
  engproto: req("@pulumi/pulumi/proto/engine_pb"),
};
const URN = "urn:pulumi:dev::sendgrid-integrations::sendgrid-segment:index:SegmentIntegration::prod";

/** Whether a promise has settled once everything already queued has run (no timing involved). */
async function outcome(promise: Promise<unknown>): Promise<"resolved" | "rejected" | "pending"> {
  return Promise.race([
    promise.then(
      () => "resolved" as const,
      () => "rejected" as const,
    ),
    new Promise<"pending">((resolve) => setImmediate(() => resolve("pending"))),
  ]);
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("controlFor: the engine's custom timeout and the deployment's Cancel", () => {
  it("without a custom timeout (0, the engine's default): no deadline, and only Cancel stops the operation", () => {
    const cancel = new AbortController();
    for (const control of [controlFor(cancel.signal), controlFor(cancel.signal, 0, "the create")]) {
      expect(control.deadline).toBeUndefined();
      expect(stoppedBy(control)).toBeUndefined();
    }
    cancel.abort(new Stopped("Pulumi cancelled the deployment"));
    expect(stoppedBy(controlFor(cancel.signal))?.message).toBe("Pulumi cancelled the deployment");
  });

  it("a custom timeout sets the deadline and stops the operation when it runs out, saying whose it was", () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const create = controlFor(new AbortController().signal, 1.5, "the create");
    expect(create.deadline).toBe(1_001_500);
    vi.advanceTimersByTime(1_499);
    expect(stoppedBy(create)).toBeUndefined();
    vi.advanceTimersByTime(1);
    expect(stoppedBy(create)).toBeInstanceOf(Stopped);
    expect(stoppedBy(create)?.message).toBe("the create's custom timeout (1.5 s, customTimeouts) ran out");

    // Whole seconds read as such; an operation not named is "the operation".
    const unnamed = controlFor(new AbortController().signal, 2);
    expect(unnamed.deadline).toBe(1_003_500);
    vi.advanceTimersByTime(2_000);
    expect(stoppedBy(unnamed)?.message).toBe("the operation's custom timeout (2 s, customTimeouts) ran out");
  });

  it("Cancel still stops an operation that has a custom timeout, with Cancel's own reason", () => {
    const cancel = new AbortController();
    const control = controlFor(cancel.signal, 600, "the delete");
    expect(stoppedBy(control)).toBeUndefined();
    const why = new Stopped("Pulumi cancelled the deployment");
    cancel.abort(why);
    expect(stoppedBy(control)).toBe(why);
  });

  it("passes the operation's warnings on, with a custom timeout or without", () => {
    const warned: string[] = [];
    const warn = (message: string) => warned.push(message);
    controlFor(new AbortController().signal, 0, "the read", warn).warn?.("one");
    controlFor(new AbortController().signal, 30, "the read", warn).warn?.("two");
    expect(warned).toEqual(["one", "two"]);
    expect(controlFor(new AbortController().signal, 30).warn).toBeUndefined();
  });
});

describe("sleep: a wait that the operation's control cuts short", () => {
  it("waits when nothing stops it", async () => {
    await expect(sleep(1)).resolves.toBeUndefined();
    await expect(sleep(1, UNBOUNDED)).resolves.toBeUndefined();
  });

  it("a control that has fired: throws its Stopped at once", async () => {
    const cancel = new AbortController();
    const why = new Stopped("Pulumi cancelled the deployment");
    cancel.abort(why);
    const waiting = sleep(60_000, controlFor(cancel.signal));
    expect(await outcome(waiting)).toBe("rejected");
    await expect(waiting).rejects.toBe(why);
  });

  it("stops waiting as soon as the control fires, and throws its Stopped (named so in a stack trace)", async () => {
    const cancel = new AbortController();
    const waiting = sleep(60_000, controlFor(cancel.signal));
    expect(await outcome(waiting)).toBe("pending");
    cancel.abort(new Stopped("Pulumi cancelled the deployment"));
    expect(await outcome(waiting)).toBe("rejected");
    const error = await waiting.catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Stopped);
    expect(String(error)).toBe("Stopped: Pulumi cancelled the deployment");
  });
});

describe("EngineLink: where the engine is, and its modules", () => {
  it("the engine's address is the provider process's first argument that is not a flag", () => {
    const address = (args: string[]) => EngineLink.fromArgs(args, () => MODULES)?.address;
    expect(address(["-v=9", "--logtostderr", "127.0.0.1:50051"])).toBe("127.0.0.1:50051");
    expect(address(["127.0.0.1:50051", "127.0.0.1:50052"])).toBe("127.0.0.1:50051");
    expect(address(["--tracing=file:trace.json"])).toBeUndefined();
    expect(address([])).toBeUndefined();
  });

  it("fromPulumi takes the gRPC modules of the program's own @pulumi/pulumi (where it runs), else this package's", () => {
    const program = mkdtempSync(join(tmpdir(), "program-"));
    const elsewhere = mkdtempSync(join(tmpdir(), "elsewhere-"));
    try {
      const write = (path: string, text: string) => {
        mkdirSync(dirname(join(program, path)), { recursive: true });
        writeFileSync(join(program, path), text);
      };
      const pulumi = "node_modules/@pulumi/pulumi";
      write(`${pulumi}/package.json`, JSON.stringify({ name: "@pulumi/pulumi", version: "3.0.0" }));
      write(`${pulumi}/proto/engine_grpc_pb.js`, 'exports.from = "the program\'s engine_grpc_pb";');
      write(`${pulumi}/proto/engine_pb.js`, 'exports.from = "the program\'s engine_pb";');
      write("node_modules/@grpc/grpc-js/package.json", JSON.stringify({ name: "@grpc/grpc-js", main: "index.js" }));
      write("node_modules/@grpc/grpc-js/index.js", 'exports.from = "the program\'s grpc-js";');
      const cwd = vi.spyOn(process, "cwd").mockReturnValue(program);
      expect(fromPulumi()).toEqual({
        grpc: { from: "the program's grpc-js" },
        engrpc: { from: "the program's engine_grpc_pb" },
        engproto: { from: "the program's engine_pb" },
      });
      // A directory without @pulumi/pulumi: the one beside this package serves.
      cwd.mockReturnValue(elsewhere);
      const own = fromPulumi();
      expect(new own.engproto.LogRequest().setMessage("hello").getMessage()).toBe("hello");
      expect(typeof own.engrpc.EngineClient).toBe("function");
      expect(typeof own.grpc.credentials.createInsecure).toBe("function");
    } finally {
      rmSync(program, { recursive: true, force: true });
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

describe("EngineLink: the engine's log", () => {
  it("writes each line with its severity, for the resource when a URN is given; flush waits until all arrived", async () => {
    const engine = await startFakeEngine({ req });
    const link = new EngineLink(engine.address, () => MODULES);
    try {
      void link.log(Severity.warning, "set properties.writeKey in the program", URN);
      void link.log(Severity.info, "no resource");
      await link.flush();
      expect(engine.logs).toHaveLength(2);
      expect(engine.logs).toEqual(
        expect.arrayContaining([
          { severity: 2, message: "set properties.writeKey in the program", urn: URN },
          { severity: 1, message: "no resource", urn: "" },
        ]),
      );
    } finally {
      link.close();
      await engine.close();
    }
  });

  it("a line the engine cannot take never fails nor holds up the operation", async () => {
    // The program's @pulumi/pulumi has no engine protos (or none at all): the line is dropped.
    const broken = new EngineLink("127.0.0.1:1", () => {
      throw new Error("Cannot find module '@pulumi/pulumi/proto/engine_pb'");
    });
    expect(await outcome(broken.log(Severity.warning, "lost", URN))).toBe("resolved");
    expect(await outcome(broken.flush())).toBe("resolved");
    // An engine that is gone: the call fails, the line is dropped.
    const engine = await startFakeEngine({ req });
    await engine.close();
    const gone = new EngineLink(engine.address, () => MODULES);
    try {
      await expect(gone.log(Severity.warning, "lost", URN)).resolves.toBeUndefined();
    } finally {
      gone.close();
    }
  });

  it("once closed, it sends the engine nothing more", async () => {
    const engine = await startFakeEngine({ req });
    const link = new EngineLink(engine.address, () => MODULES);
    try {
      await link.log(Severity.warning, "before");
      link.close();
      await link.log(Severity.warning, "after");
      expect(engine.logs.map((l) => l.message)).toEqual(["before"]);
    } finally {
      await engine.close();
    }
  });
});

/**
 * An engine whose health service answers each check when the test says how, and a link to it that
 * tells the test when it has handled an answer (grpc-js's own client, with the answer observed).
 */
async function scriptedEngine(Link: typeof EngineLink = EngineLink) {
  const checks: ((error: object | null, answer?: Buffer) => void)[] = [];
  let checkArrived: (() => void) | undefined;
  const server = new grpc.Server();
  server.register(
    "/grpc.health.v1.Health/Check",
    (_call: unknown, callback: (error: object | null, answer?: Buffer) => void) => {
      checks.push(callback);
      checkArrived?.();
    },
    (bytes: Buffer) => bytes,
    (bytes: Buffer) => bytes,
    "unary",
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e: Error | null, p: number) =>
      e ? reject(e) : resolve(p),
    ),
  );
  let inFlight = 0;
  let allHandled: (() => void) | undefined;
  class Observed extends grpc.Client {
    makeUnaryRequest(...args: any[]) {
      const callback = args.pop();
      inFlight++;
      return super.makeUnaryRequest(...args, (error: unknown, answer: unknown) => {
        callback(error, answer);
        if (--inFlight === 0) allHandled?.();
      });
    }
  }
  const address = `127.0.0.1:${port}`;
  const link = new Link(address, () => ({ ...MODULES, grpc: { ...grpc, Client: Observed } }));
  const gone: string[] = [];
  return {
    address,
    link,
    gone,
    /** Watches with checks far apart: only the first, at once, happens during a test. */
    watch: () => link.watch((why) => gone.push(why), 3_600_000),
    /** Waits for the next check to reach the engine, and returns how to answer it. */
    async nextCheck() {
      if (checks.length === 0) await new Promise<void>((resolve) => (checkArrived = resolve));
      return checks.shift()!;
    },
    /** Answers a check, and waits until the link has handled every answer (or given up the call). */
    async answer(check: (error: object | null, answer?: Buffer) => void, error: object | null, answer?: Buffer) {
      const handled = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (allHandled = resolve));
      check(error, answer);
      await handled;
    },
    close: async () => {
      link.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      server.forceShutdown();
    },
  };
}

const SERVING = Buffer.from([0x08, 0x01]);
const NOT_SERVING = Buffer.from([0x08, 0x02]);

describe("EngineLink: the engine's health (as Go SDK plugins check it)", () => {
  it("an engine that answers SERVING, or has no health service (UNIMPLEMENTED), is there", async () => {
    for (const [error, answer] of [
      [null, SERVING],
      [{ code: grpc.status.UNIMPLEMENTED, details: "unknown service grpc.health.v1.Health" }, undefined],
    ] as const) {
      const engine = await scriptedEngine();
      try {
        engine.watch();
        await engine.answer(await engine.nextCheck(), error, answer);
        expect(engine.gone).toEqual([]);
      } finally {
        await engine.close();
      }
    }
  });

  it("an engine that answers NOT_SERVING or UNKNOWN is gone: said once", async () => {
    for (const answer of [NOT_SERVING, Buffer.alloc(0)]) {
      const engine = await scriptedEngine();
      try {
        engine.watch();
        await engine.answer(await engine.nextCheck(), null, answer);
        expect(engine.gone).toEqual([`the engine at ${engine.address} is not serving`]);
      } finally {
        await engine.close();
      }
    }
  });

  it("an engine whose check fails is gone, with gRPC's reason", async () => {
    const engine = await scriptedEngine();
    try {
      engine.watch();
      await engine.answer(await engine.nextCheck(), { code: grpc.status.INTERNAL, details: "the engine broke" });
      expect(engine.gone).toEqual([`the engine at ${engine.address} is gone (the engine broke)`]);
    } finally {
      await engine.close();
    }
  });

  it("an answer that comes after the watch stopped (the plugin shutting down) is ignored", async () => {
    for (const end of ["stop", "close"] as const) {
      const engine = await scriptedEngine();
      try {
        engine.watch();
        const check = await engine.nextCheck();
        engine.link[end]();
        await engine.answer(check, null, NOT_SERVING);
        expect(engine.gone).toEqual([]);
      } finally {
        await engine.close();
      }
    }
  });
});

// What the modules define as they load (helpers built as constants): loaded afresh inside each
// test, so the test reads what that load made.
describe("the controls and the engine link as their modules load", () => {
  it("a control that has fired says why, and a wait on it throws that at once", async () => {
    vi.resetModules();
    const { controlFor, sleep, Stopped, stoppedBy } = await import("../provider/control.js");
    const cancel = new AbortController();
    const control = controlFor(cancel.signal, 600, "the delete");
    expect(stoppedBy(control)).toBeUndefined();
    const why = new Stopped("Pulumi cancelled the deployment");
    cancel.abort(why);
    expect(stoppedBy(control)).toBe(why);
    await expect(sleep(60_000, control)).rejects.toBe(why);
  });

  it("an engine that answers SERVING is there", async () => {
    vi.resetModules();
    const engine = await scriptedEngine((await import("../provider/engine.js")).EngineLink);
    try {
      engine.watch();
      await engine.answer(await engine.nextCheck(), null, SERVING);
      expect(engine.gone).toEqual([]);
    } finally {
      await engine.close();
    }
  });
});
