/**
 * Provider configuration, read at deployment time from the stack config that the engine hands to
 * the dynamic provider's `configure` (namespaced keys such as `sendgrid:apiKey`, every value a
 * string, structured values as JSON text, secrets decrypted) and from the environment. Stack
 * config wins, setting by setting. Nothing here is ever captured into the serialized provider.
 *
 * The default account (resources without `account`):
 *
 * | stack config              | environment                  | default                    |
 * |---------------------------|------------------------------|----------------------------|
 * | sendgrid:apiKey (secret)  | SENDGRID_API_KEY             | none: required for API use |
 * | sendgrid:region           | SENDGRID_REGION              | global                     |
 * | sendgrid:apiBaseUrl       | SENDGRID_API_BASE_URL        | from the region            |
 * | sendgrid:requestTimeoutMs | SENDGRID_REQUEST_TIMEOUT_MS  | 30000                      |
 * | sendgrid:retryBudgetMs    | SENDGRID_RETRY_BUDGET_MS     | 120000                     |
 *
 * A named account `<name>` (resources with `account: "<name>"`) has the same five settings, in
 * stack config as fields of `sendgrid:accounts.<name>` (`apiKey`, `region`, ...) and in the
 * environment as `SENDGRID_ACCOUNT_<NAME>_API_KEY`, `..._REGION`, ... (`<NAME>` upper-cased, `-`
 * as `_`). An account exists when either form names it.
 */
import { isIP } from "node:net";
import { ConfigurationError } from "./errors";
import { isRecord } from "./types";

export const REGION_HOSTS = {
  global: "https://api.sendgrid.com",
  eu: "https://api.eu.sendgrid.com",
} as const;
export type Region = keyof typeof REGION_HOSTS;

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRY_BUDGET_MS = 120_000;

/** An account name: it becomes part of environment variable names, so letters, digits, - and _. */
export const ACCOUNT_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
/** The dynamic provider's stack config namespace (`sendgrid:apiKey`); the plugin has its own. */
export const DEFAULT_NAMESPACE = "sendgrid";
const accountsKey = (namespace: string) => `${namespace}:accounts`;

export interface Settings {
  /** The named account these settings are for; absent for the default account. */
  account?: string;
  /** Undefined until an operation that calls the API needs it (see `requireApiKey`). */
  apiKey: string | undefined;
  region: Region;
  baseUrl: string;
  requestTimeoutMs: number;
  /** Overall time one API call may spend retrying (0: never retry). */
  retryBudgetMs: number;
  /** How the user changes the retry budget here (a stack config key, or a command's flag), for messages. */
  retryBudgetSetting: string;
  /** The stack config namespace the settings were read from, for messages. */
  namespace: string;
  /**
   * Where each setting is changed, for messages: the stack config key, flag or variable it came
   * from, or, when unset, where it could be set (`sendgrid:apiBaseUrl or SENDGRID_API_BASE_URL`).
   */
  sources: Record<Field, string>;
}

/** Looks up a namespaced stack config key; undefined when not set. */
export type StackConfig = (key: string) => string | undefined;

interface Setting {
  config: string;
  env: string;
}
export type Field = "apiKey" | "region" | "apiBaseUrl" | "requestTimeoutMs" | "retryBudgetMs";
const FIELDS: Record<Field, string> = {
  apiKey: "API_KEY",
  region: "REGION",
  apiBaseUrl: "API_BASE_URL",
  requestTimeoutMs: "REQUEST_TIMEOUT_MS",
  retryBudgetMs: "RETRY_BUDGET_MS",
};

/** Where each setting of an account is read from: its stack config key and environment variable. */
export function settingNames(account?: string, namespace = DEFAULT_NAMESPACE): Record<Field, Setting> {
  const names = {} as Record<Field, Setting>;
  for (const [field, env] of Object.entries(FIELDS) as [Field, string][]) {
    names[field] = account
      ? { config: `${accountsKey(namespace)}.${account}.${field}`, env: `${accountEnvPrefix(account)}${env}` }
      : { config: `${namespace}:${field}`, env: `SENDGRID_${env}` };
  }
  return names;
}

/** `eu-brand` → `SENDGRID_ACCOUNT_EU_BRAND_`. */
export const accountEnvPrefix = (account: string) => `SENDGRID_ACCOUNT_${account.toUpperCase().replace(/-/g, "_")}_`;

/**
 * `sendgrid:accounts` as the engine sends it (JSON text of an object of objects), or {} when unset.
 * Each account may hold only the five known settings.
 */
export function readAccounts(
  stack: StackConfig,
  namespace = DEFAULT_NAMESPACE,
): Record<string, Record<string, unknown>> {
  const key = accountsKey(namespace);
  const raw = stack(key);
  if (raw === undefined || raw === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigurationError(
      `Invalid ${key}: expected structured config, an object of accounts ` +
        `(pulumi config set --path '${key}.<name>.apiKey' --secret <key>)`,
    );
  }
  if (!isRecord(parsed)) throw new ConfigurationError(`Invalid ${key}: expected an object of accounts`);
  for (const [name, entry] of Object.entries(parsed)) {
    // Everything under accounts is secret: a name is shown only when it has a name's shape.
    if (!ACCOUNT_NAME.test(name)) {
      throw new ConfigurationError(
        `Invalid ${key}: an account name (${describeText(name)}) is not 1 to 64 letters, digits, '-' or '_', starting with a letter`,
      );
    }
    if (!isRecord(entry)) throw new ConfigurationError(`Invalid ${key}.${name}: expected an object`);
    for (const field of Object.keys(entry)) {
      if (!(field in FIELDS)) {
        const shown = FIELD_SHAPE.test(field) ? `.${field}` : ` field (${describeText(field)})`;
        throw new ConfigurationError(
          `Invalid ${key}.${name}${shown}: not a setting; an account has ${Object.keys(FIELDS).join(", ")}`,
        );
      }
    }
  }
  return parsed as Record<string, Record<string, unknown>>;
}

/** Whether a named account is configured, in stack config or the environment. */
export function accountExists(
  account: string,
  stack: StackConfig,
  env: NodeJS.ProcessEnv = process.env,
  namespace = DEFAULT_NAMESPACE,
): boolean {
  if (Object.hasOwn(readAccounts(stack, namespace), account)) return true;
  const prefix = accountEnvPrefix(account);
  return Object.keys(FIELDS).some((f) => {
    const value = env[`${prefix}${FIELDS[f as Field]}`];
    return value !== undefined && value !== "";
  });
}

/** How to configure a named account, for messages. */
export const howToConfigure = (account: string, namespace = DEFAULT_NAMESPACE) =>
  `set it with \`pulumi config set --secret --path '${accountsKey(namespace)}.${account}.apiKey' <key>\` ` +
  `(and region, apiBaseUrl as needed) or the ${accountEnvPrefix(account)}API_KEY environment variable`;

/** A setting's value and where it came from (for errors); undefined when it is not set. */
type Found = { value: string; from: string } | undefined;

function lookup(setting: Setting, stack: StackConfig, env: NodeJS.ProcessEnv): Found {
  const fromStack = stack(setting.config);
  if (fromStack !== undefined && fromStack !== "") return { value: fromStack, from: setting.config };
  const fromEnv = env[setting.env];
  if (fromEnv !== undefined && fromEnv !== "") return { value: fromEnv, from: setting.env };
  return undefined;
}

/** Stack config lookups for a named account's fields, read from `sendgrid:accounts`. */
function accountConfig(stack: StackConfig, account: string, namespace: string): StackConfig {
  const entry = readAccounts(stack, namespace)[account] ?? {};
  const prefix = `${accountsKey(namespace)}.${account}.`;
  return (key) => {
    const value = key.startsWith(prefix) ? entry[key.slice(prefix.length)] : undefined;
    // A list or object where text belongs is shown as JSON, so the field's own check names it.
    return value === undefined || value === null
      ? undefined
      : typeof value === "object"
        ? JSON.stringify(value)
        : String(value);
  };
}

/**
 * The settings of the default account, or of `account` when named. A named account that neither
 * stack config nor the environment mentions is an error that says how to configure it.
 */
export function resolveSettings(
  stack: StackConfig,
  env: NodeJS.ProcessEnv = process.env,
  account?: string,
  /**
   * Command-line flags that stand in for settings, by field (e.g. `{ region: "--region" }`): `stack`
   * is asked for that flag name first, and errors name the flag.
   */
  flags: Partial<Record<Field, string>> = {},
  /** The stack config namespace: `sendgrid` for the dynamic provider, the plugin's own for it. */
  namespace = DEFAULT_NAMESPACE,
): Settings {
  if (account !== undefined) {
    if (!ACCOUNT_NAME.test(account)) {
      throw new ConfigurationError(
        `Invalid account (${describeText(account)}): 1 to 64 letters, digits, '-' or '_', starting with a letter`,
      );
    }
    if (!accountExists(account, stack, env, namespace)) {
      throw new ConfigurationError(
        `No SendGrid account "${account}" is configured: ${howToConfigure(account, namespace)}`,
      );
    }
  }
  const names = settingNames(account, namespace);
  const source = account !== undefined ? accountConfig(stack, account, namespace) : stack;
  const sources = {} as Record<Field, string>;
  const get = (field: Field): Found => {
    const flag = flags[field];
    const fromFlag = flag ? stack(flag) : undefined;
    const found =
      flag && fromFlag !== undefined && fromFlag !== ""
        ? { value: fromFlag, from: flag }
        : lookup(names[field], source, env);
    sources[field] = found?.from ?? [flag, names[field].config, names[field].env].filter(Boolean).join(" or ");
    return found;
  };
  const region = get("region");
  const regionName = (region?.value ?? "global").toLowerCase();
  if (region && !(regionName in REGION_HOSTS)) {
    throw new ConfigurationError(
      `Invalid ${region.from}: expected "global" or "eu", got ${describeText(region.value)}`,
    );
  }
  const base = get("apiBaseUrl");
  const baseUrl = base ? checkBaseUrl(base.value, base.from) : REGION_HOSTS[regionName as Region];

  const apiKey = get("apiKey");
  if (apiKey && !API_KEY_TEXT.test(apiKey.value)) {
    // A key copied with its line break (`cat key | pulumi config set`) would fail every request
    // with a bare ERR_INVALID_CHAR: say which setting, without quoting it.
    throw new ConfigurationError(
      `Invalid ${apiKey.from}: it holds a space, line break or other character no API key has ` +
        `(${describeText(apiKey.value)}); set the key alone`,
    );
  }
  return {
    ...(account !== undefined ? { account } : {}),
    apiKey: apiKey?.value,
    region: regionName as Region,
    baseUrl,
    requestTimeoutMs: milliseconds(get("requestTimeoutMs"), DEFAULT_REQUEST_TIMEOUT_MS, 1, 600_000),
    retryBudgetMs: milliseconds(get("retryBudgetMs"), DEFAULT_RETRY_BUDGET_MS, 0, 3_600_000),
    retryBudgetSetting: flags.retryBudgetMs ?? names.retryBudgetMs.config,
    namespace,
    sources,
  };
}

/** What an API key is made of: printable ASCII, no spaces (SendGrid's are `SG.<id>.<secret>`). */
const API_KEY_TEXT = /^[\x21-\x7e]+$/;

function milliseconds(setting: Found, fallback: number, min: number, max: number): number {
  if (!setting) return fallback;
  const ms = Number(setting.value);
  if (!Number.isInteger(ms) || ms < min || ms > max) {
    throw new ConfigurationError(
      `Invalid ${setting.from}: expected whole milliseconds from ${min} to ${max}, got ${describeText(setting.value)}`,
    );
  }
  return ms;
}

export function requireApiKey(settings: Settings): string {
  if (settings.apiKey) return settings.apiKey;
  if (settings.account !== undefined) {
    throw new ConfigurationError(
      `No API key for SendGrid account "${settings.account}": ${howToConfigure(settings.account, settings.namespace)}`,
    );
  }
  throw new ConfigurationError(
    `No SendGrid API key: set it with \`pulumi config set --secret ${settings.namespace}:apiKey <key>\` ` +
      "or the SENDGRID_API_KEY environment variable",
  );
}

/**
 * https anywhere; plain http only to this machine (the emulator, a local proxy). The URL is the
 * API's root: SendGrid's docs write the base URL with `/v3`, which is dropped (requests add it);
 * a path that goes further into the API cannot be a root, and is refused with the fix. Any other
 * path is kept (a proxy's prefix). Values are described, never quoted: a key pasted into the
 * wrong setting must not be echoed.
 */
function checkBaseUrl(value: string, from: string): string {
  let url: URL;
  const rule =
    "use https://<host>, or http:// only for a loopback address (e.g. http://127.0.0.1:8787 for the emulator)";
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(`Invalid ${from}: not a URL (${describeText(value)}); ${rule}`);
  }
  if (url.username || url.password) {
    throw new ConfigurationError(`Invalid ${from}: credentials in the URL are not allowed`);
  }
  if (url.search || url.hash) {
    throw new ConfigurationError(`Invalid ${from}: a query or fragment is not allowed; use the API's root URL`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname))) {
    const what = url.protocol === "http:" ? "plain http to a host that is not this machine" : "not an http(s) URL";
    throw new ConfigurationError(`Invalid ${from}: ${what}; ${rule}`);
  }
  const path = url.pathname.replace(/\/+$/, "");
  if (/\/v3\/./i.test(`${path}/`) && !/\/v3$/i.test(path)) {
    throw new ConfigurationError(
      `Invalid ${from}: the URL goes into the API (…/v3/…); give its root, e.g. ${REGION_HOSTS.global}`,
    );
  }
  url.pathname = path.replace(/\/v3$/i, "");
  return url.href.replace(/\/+$/, "");
}

/** A text described by its type and length only: configuration values are never quoted. */
export const describeText = (value: string): string =>
  `a string of ${value.length} character${value.length === 1 ? "" : "s"}`;

/** A field name shown in a message: a short word (what a typo of "apiKey" looks like), never a key. */
const FIELD_SHAPE = /^[A-Za-z][A-Za-z0-9]{0,31}$/;

export function isLoopback(hostname: string): boolean {
  // Stryker disable next-line Regex: a hostname holds brackets only around an IPv6 address
  const host = hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127."));
}
