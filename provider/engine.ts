/**
 * Speaking back to the Pulumi engine that started this provider process, at the address it passed
 * as the process's argument: its log (`pulumirpc.Engine/Log`, what the CLI shows beside the
 * resource) and its health (`grpc.health.v1.Health/Check`, which the engine serves:
 * pkg/resource/provider/serve.go at pulumi/pulumi 1b59498). A provider whose engine is gone exits,
 * as plugins built on the Go SDK do (sdk/go/common/util/rpcutil/health.go `Healthcheck`: any
 * error but UNIMPLEMENTED means the engine is gone).
 *
 * The gRPC modules are given by the front door: the plugin bundles its own; the dynamic provider
 * takes those of the program's `@pulumi/pulumi` (`fromPulumi`), so nothing extra is installed.
 */
import { createRequire } from "node:module";

type Grpc = typeof import("@grpc/grpc-js");

/** What the link needs: grpc-js and the engine's proto stubs. */
export interface EngineModules {
  grpc: Grpc;
  engrpc: { EngineClient: new (address: string, credentials: unknown) => any };
  engproto: { LogRequest: new () => any };
}

/** The modules of the `@pulumi/pulumi` installed beside the program (the dynamic provider's process). */
export function fromPulumi(): EngineModules {
  const req = createRequire(require.resolve("@pulumi/pulumi/package.json", { paths: [process.cwd(), __dirname] }));
  return {
    grpc: req("@grpc/grpc-js"),
    engrpc: req("@pulumi/pulumi/proto/engine_grpc_pb"),
    engproto: req("@pulumi/pulumi/proto/engine_pb"),
  };
}

/** The engine's log severities (proto/pulumi/engine.proto `LogSeverity`). */
export const Severity = { debug: 0, info: 1, warning: 2, error: 3 } as const;

/** How often the plugin asks whether its engine is still there, in milliseconds. */
export const HEALTH_INTERVAL_MS = 10_000;

export class EngineLink {
  private client: any;
  /** Log calls not yet answered. */
  private readonly pending = new Set<Promise<void>>();
  private health: InstanceType<Grpc["Client"]> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly address: string,
    private readonly modules: () => EngineModules,
  ) {}

  /** The engine's address among a provider process's arguments (flags such as `-v=9` come first). */
  static fromArgs(args: readonly string[], modules: () => EngineModules): EngineLink | undefined {
    const address = args.filter((arg) => !arg.startsWith("-")).at(0);
    return address ? new EngineLink(address, modules) : undefined;
  }

  /** Writes a message to the engine's log, for the resource `urn` when given. Never throws. */
  log(severity: number, message: string, urn?: string): Promise<void> {
    const sent = this.send(severity, message, urn);
    this.pending.add(sent);
    // Stryker disable next-line ArrowFunction: forgetting an answered call only frees memory: flush waits on a settled promise at once
    void sent.then(() => this.pending.delete(sent));
    return sent;
  }

  /** Waits until every log line written so far has reached the engine (or failed to). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  private send(severity: number, message: string, urn?: string): Promise<void> {
    return new Promise((resolve) => {
      try {
        const { grpc, engrpc, engproto } = this.modules();
        this.client ??= new engrpc.EngineClient(this.address, grpc.credentials.createInsecure());
        const request = new engproto.LogRequest()
          .setSeverity(severity)
          .setMessage(message)
          .setUrn(urn ?? ""); // proto3: "" is no URN
        this.client.log(request, () => resolve());
      } catch {
        resolve(); // a log line is never worth failing an operation
      }
    });
  }

  /**
   * Asks the engine's health service every `intervalMs` (the first time at once); calls `gone`
   * once when it answers anything but SERVING or UNIMPLEMENTED, or cannot be reached.
   */
  watch(gone: (why: string) => void, intervalMs = HEALTH_INTERVAL_MS): void {
    const { grpc } = this.modules();
    this.health ??= new grpc.Client(this.address, grpc.credentials.createInsecure());
    const check = () => {
      this.health!.makeUnaryRequest(
        "/grpc.health.v1.Health/Check",
        () => Buffer.alloc(0), // HealthCheckRequest{service: ""}
        (bytes: Buffer) => bytes,
        {},
        (error: { code?: number; details?: string } | null, answer?: Buffer) => {
          if (!this.timer) return; // stopped meanwhile
          if (error && error.code !== grpc.status.UNIMPLEMENTED) {
            this.stop();
            gone(`the engine at ${this.address} is gone (${error.details ?? error.code})`);
          } else if (!error && !isServing(answer)) {
            this.stop();
            gone(`the engine at ${this.address} is not serving`);
          }
        },
      );
    };
    this.timer = setInterval(check, intervalMs);
    this.timer.unref();
    check();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
    this.client?.close();
    this.health?.close();
  }
}

/** HealthCheckResponse{status: SERVING (1)}: field 1, varint 1. An empty answer is UNKNOWN (0). */
// Stryker disable next-line OptionalChaining: grpc-js calls back without an error only with the answer (client.js makeUnaryRequest: an OK call without a message is an error)
const isServing = (answer: Buffer | undefined) => answer?.equals(Buffer.from([0x08, 0x01])) === true;
