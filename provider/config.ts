/**
 * Provider configuration, read at deployment time from the stack config that the engine hands to
 * the dynamic provider's `configure` (namespaced keys such as `sendgrid:apiKey`) and from the
 * environment. Stack config wins. Nothing here is ever captured into the serialized provider.
 *
 * | stack config              | environment                  | default                    |
 * |---------------------------|------------------------------|----------------------------|
 * | sendgrid:apiKey (secret)  | SENDGRID_API_KEY             | none: required for API use |
 * | sendgrid:region           | SENDGRID_REGION              | global                     |
 * | sendgrid:apiBaseUrl       | SENDGRID_API_BASE_URL        | from the region            |
 * | sendgrid:requestTimeoutMs | SENDGRID_REQUEST_TIMEOUT_MS  | 30000                      |
 * | sendgrid:retryBudgetMs    | SENDGRID_RETRY_BUDGET_MS     | 120000                     |
 */
import { isIP } from "node:net";
import { ConfigurationError } from "./errors";

export const REGION_HOSTS = {
  global: "https://api.sendgrid.com",
  eu: "https://api.eu.sendgrid.com",
} as const;
export type Region = keyof typeof REGION_HOSTS;

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRY_BUDGET_MS = 120_000;

export interface Settings {
  /** Undefined until an operation that calls the API needs it (see `requireApiKey`). */
  apiKey: string | undefined;
  region: Region;
  baseUrl: string;
  requestTimeoutMs: number;
  /** Overall time one API call may spend retrying (0: never retry). */
  retryBudgetMs: number;
}

/** Looks up a namespaced stack config key; undefined when not set. */
export type StackConfig = (key: string) => string | undefined;

interface Setting {
  config: string;
  env: string;
}
const SETTING = {
  apiKey: { config: "sendgrid:apiKey", env: "SENDGRID_API_KEY" },
  region: { config: "sendgrid:region", env: "SENDGRID_REGION" },
  apiBaseUrl: { config: "sendgrid:apiBaseUrl", env: "SENDGRID_API_BASE_URL" },
  requestTimeoutMs: { config: "sendgrid:requestTimeoutMs", env: "SENDGRID_REQUEST_TIMEOUT_MS" },
  retryBudgetMs: { config: "sendgrid:retryBudgetMs", env: "SENDGRID_RETRY_BUDGET_MS" },
} satisfies Record<string, Setting>;

function lookup(setting: Setting, stack: StackConfig, env: NodeJS.ProcessEnv): { value?: string; from: string } {
  const fromStack = stack(setting.config);
  if (fromStack !== undefined && fromStack !== "") return { value: fromStack, from: setting.config };
  const fromEnv = env[setting.env];
  if (fromEnv !== undefined && fromEnv !== "") return { value: fromEnv, from: setting.env };
  return { from: `${setting.config} / ${setting.env}` };
}

export function resolveSettings(stack: StackConfig, env: NodeJS.ProcessEnv = process.env): Settings {
  const region = lookup(SETTING.region, stack, env);
  const regionName = (region.value ?? "global").toLowerCase();
  if (!(regionName in REGION_HOSTS)) {
    throw new ConfigurationError(`Invalid ${region.from} ${JSON.stringify(region.value)}: expected "global" or "eu"`);
  }
  const base = lookup(SETTING.apiBaseUrl, stack, env);
  const baseUrl = base.value ? checkBaseUrl(base.value, base.from) : REGION_HOSTS[regionName as Region];

  return {
    apiKey: lookup(SETTING.apiKey, stack, env).value,
    region: regionName as Region,
    baseUrl,
    requestTimeoutMs: milliseconds(
      lookup(SETTING.requestTimeoutMs, stack, env),
      DEFAULT_REQUEST_TIMEOUT_MS,
      1,
      600_000,
    ),
    retryBudgetMs: milliseconds(lookup(SETTING.retryBudgetMs, stack, env), DEFAULT_RETRY_BUDGET_MS, 0, 3_600_000),
  };
}

function milliseconds(setting: { value?: string; from: string }, fallback: number, min: number, max: number): number {
  if (setting.value === undefined) return fallback;
  const ms = Number(setting.value);
  if (!Number.isInteger(ms) || ms < min || ms > max) {
    throw new ConfigurationError(
      `Invalid ${setting.from} ${JSON.stringify(setting.value)}: expected whole milliseconds from ${min} to ${max}`,
    );
  }
  return ms;
}

export function requireApiKey(settings: Settings): string {
  if (settings.apiKey) return settings.apiKey;
  throw new ConfigurationError(
    "No SendGrid API key: set it with `pulumi config set --secret sendgrid:apiKey <key>` " +
      "or the SENDGRID_API_KEY environment variable",
  );
}

/** https anywhere; plain http only to this machine (the emulator, a local proxy). */
function checkBaseUrl(value: string, from: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(`Invalid ${from}: not a URL`);
  }
  if (url.username || url.password) {
    throw new ConfigurationError(`Invalid ${from}: credentials in the URL are not allowed`);
  }
  if (url.protocol === "https:") return stripSlash(url);
  if (url.protocol === "http:" && isLoopback(url.hostname)) return stripSlash(url);
  throw new ConfigurationError(
    `Invalid ${from} ${JSON.stringify(url.origin)}: use https://, or http:// only for a loopback address (127.0.0.1, ::1, localhost)`,
  );
}

const stripSlash = (url: URL) => url.href.replace(/\/+$/, "");

export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1";
  return false;
}
