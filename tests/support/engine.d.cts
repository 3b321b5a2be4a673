// Types for engine.cjs (the gRPC driver of the dynamic-provider server).
type Props = Record<string, any>;

export interface DetailedDiff {
  [path: string]: { kind: string; inputDiff: boolean };
}

/** A ResourceProvider client, as the engine speaks to a plugin. */
export interface ProviderClient {
  readonly port: number;
  close(): void;
  getPluginInfo(): Promise<{ version: string }>;
  getSchema(): Promise<Record<string, any>>;
  checkConfig(olds: Props, news: Props): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }>;
  diffConfig(olds: Props, news: Props): Promise<{ changes: boolean | undefined; diffs: string[]; replaces: string[] }>;
  configureArgs(
    args: Props,
  ): Promise<{ acceptSecrets: boolean; supportsPreview: boolean; acceptResources: boolean; acceptOutputs: boolean }>;
  configureVariables(variables: Record<string, string>): Promise<void>;
  raw(method: string, request?: string): Promise<unknown>;
  invoke(
    tok: string,
    args: Props,
  ): Promise<{ return: Props | undefined; failures: { property: string; reason: string }[] }>;
  configure(variables: Record<string, string>): Promise<{ acceptSecrets: boolean }>;
  check(
    name: string,
    olds: Props,
    news: Props,
    opts?: { randomSeed?: Uint8Array },
  ): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }>;
  diff(
    name: string,
    id: string,
    olds: Props,
    news: Props,
    opts?: { oldInputs?: Props; ignoreChanges?: string[] },
  ): Promise<{
    changes: boolean | undefined;
    replaces: string[];
    stables: string[];
    diffs: string[];
    deleteBeforeReplace: boolean;
    hasDetailedDiff: boolean;
    detailedDiff: DetailedDiff;
  }>;
  create(
    name: string,
    properties: Props,
    opts?: { preview?: boolean; timeout?: number },
  ): Promise<{ id: string; properties: Props }>;
  read(
    name: string,
    id: string,
    properties?: Props,
    inputs?: Props,
    opts?: { timeout?: number },
  ): Promise<{ id: string; properties: Props; inputs?: Props }>;
  update(
    name: string,
    id: string,
    olds: Props,
    news: Props,
    opts?: { oldInputs?: Props; ignoreChanges?: string[]; preview?: boolean; timeout?: number },
  ): Promise<{ properties: Props }>;
  delete(name: string, id: string, properties: Props, opts?: { oldInputs?: Props; timeout?: number }): Promise<void>;
  /** Cancel, as the engine sends it on Ctrl-C and at every shutdown. */
  cancel(): Promise<void>;
}

/** The stand-in for the engine's own server: its log, and its health. */
export interface FakeEngine {
  readonly address: string;
  readonly logs: { severity: number; message: string; urn: string }[];
  readonly healthChecks: number;
  close(): Promise<void>;
}

/** A plugin process and its client. */
export interface ProviderServer extends ProviderClient {
  readonly pid: number;
  readonly startedAt: number;
  /** When the plugin printed its port. */
  readonly portPrintedAt: number;
  readonly stderr: string;
  /** The fake engine served for it (when its arguments named `NO_ENGINE`). */
  readonly engine: FakeEngine | undefined;
  /** Resolves when the process exits. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  stop(): Promise<void>;
}

export function startProviderServer(options: {
  programDir: string;
  env?: Record<string, string>;
  node?: string;
}): Promise<ProviderServer>;
export function startPlugin(options: {
  command: string;
  args: string[];
  cwd: string;
  env?: Record<string, string>;
  bareEnv?: boolean;
  req: NodeRequire;
  type: string;
}): Promise<ProviderServer>;
export function connect(options: { port: number; req: NodeRequire; type: string }): ProviderClient;
export function startFakeEngine(options: { req: NodeRequire }): Promise<FakeEngine>;
export const NO_ENGINE: string;
export function peakRssKiB(pid: number): number | undefined;
export const UNKNOWN: string;
export const TYPE: string;
