// Types for engine.cjs (the gRPC driver of the dynamic-provider server).
type Props = Record<string, any>;

export interface ProviderServer {
  readonly port: number;
  readonly pid: number;
  readonly startedAt: number;
  readonly stderr: string;
  configure(variables: Record<string, string>): Promise<{ acceptSecrets: boolean }>;
  check(
    name: string,
    olds: Props,
    news: Props,
  ): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }>;
  diff(
    name: string,
    id: string,
    olds: Props,
    news: Props,
  ): Promise<{ changes: boolean | undefined; replaces: string[]; stables: string[] }>;
  create(name: string, properties: Props): Promise<{ id: string; properties: Props }>;
  read(name: string, id: string, properties: Props): Promise<{ id: string; properties: Props; inputs?: Props }>;
  update(name: string, id: string, olds: Props, news: Props): Promise<{ properties: Props }>;
  delete(name: string, id: string, properties: Props): Promise<void>;
  stop(): Promise<void>;
}

export function startProviderServer(options: {
  programDir: string;
  env?: Record<string, string>;
  node?: string;
}): Promise<ProviderServer>;
export function peakRssKiB(pid: number): number | undefined;
export const UNKNOWN: string;
export const TYPE: string;
