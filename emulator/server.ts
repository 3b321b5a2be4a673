/**
 * A local SendGrid-compatible Integrations API (`/v3/marketing/integrations`), faithful to the
 * official OpenAPI spec: the five operations, its error body shapes, Bearer auth, the label
 * default, and the limit of 10 Segment integrations per account, where the `on-behalf-of` header
 * selects the account. Serves loopback only. Used by the tests, by `npm run emulator`, and by users
 * who want to run their own stacks offline (`pulumi-sendgrid-segment/emulator`).
 *
 * It can also misbehave on purpose: a fixed-window rate limit answering 429 with SendGrid's
 * X-RateLimit-* headers, and injected faults: the ones of a flaky network (an HTTP status, a
 * connection reset, a request that hangs, a change committed whose response is then dropped) and
 * the ones of a hostile one (a redirect to another origin, a malformed 2xx after committing, a
 * body that stalls after the headers, an oversized error, an error quoting the credentials).
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { basename, dirname, join } from "node:path";
import { isLoopback } from "../provider/config";
import {
  DEFAULT_LABEL,
  DESTINATION_REGIONS,
  DESTINATIONS,
  EMAIL_EVENTS,
  INTEGRATION_LIMIT,
  WRITE_KEY_MAX,
  WRITE_KEY_MIN,
} from "../provider/types";

export { INTEGRATION_LIMIT };

const BASE = "/v3/marketing/integrations";

export interface EmulatorOptions {
  /** Loopback address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /**
   * Accepted API keys. Default: any non-empty Bearer token, for tests that own the process; the
   * `sendgrid-segment-emulator` command always requires one (see emulator/cli.ts).
   */
  apiKeys?: string[];
  /**
   * Allow the `echo` fault, whose answers quote the request's API key and write key. Off by
   * default: a fault that hands out credentials is there only for a test that asks for it.
   */
  allowEchoFault?: boolean;
  /** How answers return the write key; the real API does not document it. Default "full". */
  writeKeyMode?: "full" | "masked" | "omitted";
  /** Answers leave out `destination_region` (the spec requires no field of an answer). Default false. */
  omitRegion?: boolean;
  /**
   * A PATCH without `label` sets the label to the spec's default ("Untitled Integration"), as the
   * spec's `IntegrationPatch.label.default` says SendGrid might. Default false (the label is kept).
   */
  patchLabelDefault?: boolean;
  /** Delay before every answer, in milliseconds, to model a real network. Default 0. */
  latencyMs?: number;
  /** Integrations per account. Default 10, as SendGrid. */
  limit?: number;
  /** At most `limit` requests per window of `windowSeconds` (default 1), windows aligned to Unix time. */
  rateLimit?: { limit: number; windowSeconds?: number };
  /** Faults to inject from the start (see `Emulator.inject`). */
  faults?: Fault[];
  /**
   * Keep the integrations in this JSON file: loaded at start when it exists, rewritten after every
   * change, so a restarted emulator still has them. Default: in memory only. It holds write keys:
   * written with mode 0600 to a new temporary file beside it, then renamed over it (`writeState`).
   */
  stateFile?: string;
}

/** The options that shape answers, which `Emulator.setMode` can change while it runs. */
export type AnswerMode = Pick<EmulatorOptions, "writeKeyMode" | "omitRegion" | "patchLabelDefault">;

/** How a `malformed` answer is broken. */
export const MALFORMED = ["truncated", "null", "text", "empty", "no-id", "wrong-types", "foreign-id"] as const;
export type Malformed = (typeof MALFORMED)[number];
export const REDIRECT_STATUSES = [301, 302, 307, 308] as const;
/** Where a `redirect` fault points by default: an origin nobody serves. */
export const DEFAULT_REDIRECT_LOCATION = "http://127.0.0.1:9/v3/marketing/integrations?elsewhere=1";

/**
 * One misbehaviour, for the next `times` (default 1) requests of `method` (default any):
 * - `status`: answer that HTTP status without doing anything (429 carries the rate-limit headers;
 *   `resetOffsetSeconds` moves X-RateLimit-Reset from the window's end to now plus that many
 *   seconds, e.g. -5 as a client whose clock runs fast sees it; `retryAfter` adds Retry-After);
 * - `html`: answer that HTTP status with an HTML page, as a proxy or a wrong host does, without
 *   doing anything;
 * - `late-commit`: hold the request `delayMs` (default 1000), then do the work, then close the
 *   connection without answering: a server still committing after the client's timeout;
 * - `reset`: close the connection before doing anything;
 * - `hang`: never answer (the client's timeout decides);
 * - `commit-drop`: do the work, then close the connection without answering;
 * - `redirect`: answer a 3xx to `location` (default `DEFAULT_REDIRECT_LOCATION`) without doing anything;
 * - `malformed`: do the work, then answer its 2xx status with a broken body (see `MALFORMED`);
 * - `stall`: do the work, send the headers and half the body, then never finish;
 * - `oversized`: answer 400 with a body of about 5 MB (thousands of errors, long fields);
 * - `echo`: answer 400 with errors quoting the request's API key and the integration's write key
 *   (whole in `message` and `field`, cut short in `parameter`), as a careless proxy might;
 * - `commit-garbled`: do the work, then answer bytes no HTTP parser accepts (a broken proxy: the
 *   client sees an `HPE_*` error);
 * - `commit-status`: do the work, then answer `status` (default 524, Cloudflare's "a timeout
 *   occurred") with a gateway's HTML page: the origin finished, the gateway gave up on it.
 */
export type Fault =
  | {
      kind: "status";
      status: number;
      resetOffsetSeconds?: number;
      retryAfter?: string;
      method?: string;
      times?: number;
    }
  | { kind: "html"; status: number; method?: string; times?: number }
  | { kind: "late-commit"; delayMs?: number; method?: string; times?: number }
  | { kind: "reset" | "hang" | "commit-drop" | "stall" | "oversized" | "echo"; method?: string; times?: number }
  | { kind: "redirect"; status: (typeof REDIRECT_STATUSES)[number]; location?: string; method?: string; times?: number }
  | { kind: "malformed"; body: Malformed; method?: string; times?: number }
  | { kind: "commit-garbled"; method?: string; times?: number }
  | { kind: "commit-status"; status?: number; method?: string; times?: number };

export interface StoredIntegration {
  integration_id: string;
  user_id: string;
  label: string;
  destination: string;
  filters: { email_events: string[] };
  properties: { write_key: string; destination_region: string };
}

export interface LoggedRequest {
  method: string;
  path: string;
  /** The `ids` query of a DELETE. */
  ids?: string;
  onBehalfOf?: string;
  userAgent?: string;
  /** The HTTP status answered; 0 when no answer was sent. */
  status: number;
  /** The injected fault or rate limit that shaped this answer. */
  fault?: string;
  /** The fields a POST or PATCH body carried, as paths (`label`, `properties.write_key`); never values. */
  fields?: string[];
}

export interface Emulator {
  readonly url: string;
  /** Every request answered, in order (never the Authorization header). */
  readonly requests: LoggedRequest[];
  /** The integrations of one account ("" is the parent account). */
  integrations(account?: string): StoredIntegration[];
  /** Every account and its integrations. */
  accounts(): Map<string, StoredIntegration[]>;
  /** Queue faults for the next matching requests. */
  inject(...faults: Fault[]): void;
  /** Change how answers show integrations, and whether PATCH applies the label default, from now on. */
  setMode(mode: AnswerMode): void;
  /** Faults still queued. */
  pendingFaults(): Fault[];
  /** Drop every queued fault. */
  clearFaults(): void;
  /** Remove an integration directly, as if deleted in the SendGrid UI; false when there was none. */
  remove(id: string, account?: string): boolean;
  /** Add an integration directly, as if made in the SendGrid UI (ids are generated unless given). */
  seed(
    integration: Omit<StoredIntegration, "integration_id" | "user_id"> & Partial<StoredIntegration>,
    account?: string,
  ): StoredIntegration;
  close(): Promise<void>;
}

/** Fault kinds as written in `--fault`, for help texts. */
export const FAULT_KINDS =
  "an HTTP status (429, 503, ...), 429-past (reset 5 s ago), 429-retry-0 (Retry-After: 0), html-<status>, " +
  "late-commit, reset, hang, commit-drop, commit-garbled, commit-<status> (e.g. commit-524), stall, oversized, echo, " +
  `redirect-<${REDIRECT_STATUSES.join("|")}>, malformed-<${MALFORMED.join("|")}>`;

/**
 * `POST:503:2` → { method: "POST", kind: "status", status: 503, times: 2 };
 * `GET:redirect-307` → { kind: "redirect", status: 307 }; `POST:malformed-no-id` → { kind: "malformed", body: "no-id" }.
 */
export function parseFault(spec: string, redirectLocation?: string): Fault {
  const [method = "", kind = "", times = "1", ...extra] = spec.split(":");
  const count = Number(times);
  if (extra.length || !/^(GET|POST|PATCH|DELETE|\*)$/i.test(method) || !Number.isInteger(count) || count < 1) {
    throw new Error(`fault ${JSON.stringify(spec)}: expected METHOD:KIND[:TIMES], e.g. POST:503:2`);
  }
  const common = { method: method.toUpperCase(), times: count };
  if (/^\d{3}$/.test(kind)) return { kind: "status", status: Number(kind), ...common };
  if (kind === "429-past") return { kind: "status", status: 429, resetOffsetSeconds: -5, ...common };
  if (kind === "429-retry-0") return { kind: "status", status: 429, retryAfter: "0", ...common };
  const html = /^html-(\d{3})$/.exec(kind);
  if (html) return { kind: "html", status: Number(html[1]), ...common };
  if (kind === "late-commit") return { kind: "late-commit", ...common };
  if (kind === "commit-garbled") return { kind: "commit-garbled", ...common };
  const committed = /^commit-(\d{3})$/.exec(kind);
  if (committed) return { kind: "commit-status", status: Number(committed[1]), ...common };
  if (["reset", "hang", "commit-drop", "stall", "oversized", "echo"].includes(kind)) {
    return { kind: kind as "reset", ...common };
  }
  const redirect = /^redirect-(\d{3})$/.exec(kind);
  if (redirect && (REDIRECT_STATUSES as readonly number[]).includes(Number(redirect[1]))) {
    const status = Number(redirect[1]) as (typeof REDIRECT_STATUSES)[number];
    return { kind: "redirect", status, ...(redirectLocation ? { location: redirectLocation } : {}), ...common };
  }
  const malformed = /^malformed-(.+)$/.exec(kind);
  if (malformed && (MALFORMED as readonly string[]).includes(malformed[1]!)) {
    return { kind: "malformed", body: malformed[1] as Malformed, ...common };
  }
  throw new Error(`fault ${JSON.stringify(spec)}: KIND must be ${FAULT_KINDS}`);
}

type ApiError = { message: string; field?: string | null; parameter?: string };

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errors: ApiError[],
  ) {
    super(errors.map((e) => e.message).join(", "));
  }
}

export async function startEmulator(given: EmulatorOptions = {}): Promise<Emulator> {
  const options = { ...given };
  const host = options.host ?? "127.0.0.1";
  const limit = options.limit ?? INTEGRATION_LIMIT;
  const store = loadState(options.stateFile);
  /** After every change: the whole store, written to a new temporary file and renamed into place. */
  const persist = () => {
    if (!options.stateFile) return;
    const data = { version: 1, accounts: Object.fromEntries([...store].map(([k, v]) => [k, [...v.values()]])) };
    writeState(options.stateFile, `${JSON.stringify(data, null, 2)}\n`);
  };
  const allowed = (fault: Fault) => {
    if (fault.kind === "echo" && !options.allowEchoFault) {
      throw new Error(
        "the echo fault answers with the request's API key and write key: " +
          "start the emulator with allowEchoFault: true (--allow-echo-fault) to inject it",
      );
    }
    return { ...fault, times: fault.times ?? 1 };
  };
  const requests: LoggedRequest[] = [];
  const faults: Array<Fault & { times: number }> = (options.faults ?? []).map(allowed);
  const windowMs = (options.rateLimit?.windowSeconds ?? 1) * 1000;
  let window = { start: 0, used: 0 };

  /** The rate-limit state for a request now; counts it when `take` and it fits. */
  function rateLimit(take: boolean): { headers: Record<string, string>; limited: boolean } {
    if (!options.rateLimit) return { headers: {}, limited: false };
    return windowState(options.rateLimit.limit, take);
  }

  function windowState(limit: number, take: boolean): { headers: Record<string, string>; limited: boolean } {
    const now = Date.now();
    const start = Math.floor(now / windowMs) * windowMs;
    if (start !== window.start) window = { start, used: 0 };
    const limited = window.used >= limit;
    if (take && !limited) window.used++;
    const headers = {
      "x-ratelimit-limit": String(limit),
      "x-ratelimit-remaining": String(Math.max(0, limit - window.used)),
      "x-ratelimit-reset": String((start + windowMs) / 1000),
    };
    return { headers, limited };
  }

  function takeFault(method: string): Fault | undefined {
    const i = faults.findIndex((f) => !f.method || f.method === "*" || f.method.toUpperCase() === method);
    if (i < 0) return undefined;
    const fault = faults[i]!;
    if (--fault.times <= 0) faults.splice(i, 1);
    return fault;
  }

  const accountOf = (account: string) => {
    const integrations = store.get(account) ?? new Map<string, StoredIntegration>();
    store.set(account, integrations);
    return integrations;
  };
  const userIdOf = (account: string) =>
    account === ""
      ? "1000001"
      : String(2000000 + [...account].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 1_000_000, 7));

  /** An integration as answers show it: the write key as `writeKeyMode` says, the region unless `omitRegion`. */
  const view = (i: StoredIntegration): StoredIntegration => {
    const mode = options.writeKeyMode ?? "full";
    if (mode === "full" && !options.omitRegion) return i;
    const { write_key, destination_region, ...rest } = i.properties;
    const properties: Record<string, string> = { ...rest };
    if (mode === "full") properties.write_key = write_key;
    if (mode === "masked")
      properties.write_key = `${"*".repeat(Math.max(0, write_key.length - 4))}${write_key.slice(-4)}`;
    if (!options.omitRegion) properties.destination_region = destination_region;
    return { ...i, properties } as StoredIntegration;
  };

  function create(account: string, body: unknown): StoredIntegration {
    const input = validate(body, true);
    const integrations = accountOf(account);
    if (integrations.size >= limit) {
      throw new HttpError(403, [
        { message: `you have reached your limit of ${limit} integrations for destination Segment`, field: null },
      ]);
    }
    const integration: StoredIntegration = {
      integration_id: randomUUID(),
      user_id: userIdOf(account),
      label: input.label ?? DEFAULT_LABEL,
      destination: input.destination!,
      filters: { email_events: input.filters!.email_events! },
      properties: {
        write_key: input.properties!.write_key!,
        destination_region: input.properties!.destination_region!,
      },
    };
    integrations.set(integration.integration_id, integration);
    persist();
    return integration;
  }

  function find(account: string, id: string): StoredIntegration {
    const found = accountOf(account).get(id);
    if (!found) throw new HttpError(404, [{ message: `integration does not exist (${id})` }]);
    return found;
  }

  function update(account: string, id: string, body: unknown): StoredIntegration {
    const current = find(account, id);
    const patch = validate(body, false);
    const next: StoredIntegration = {
      ...current,
      label: patch.label ?? (options.patchLabelDefault ? DEFAULT_LABEL : current.label),
      destination: patch.destination ?? current.destination,
      filters: { email_events: patch.filters?.email_events ?? current.filters.email_events },
      properties: {
        write_key: patch.properties?.write_key ?? current.properties.write_key,
        destination_region: patch.properties?.destination_region ?? current.properties.destination_region,
      },
    };
    accountOf(account).set(id, next);
    persist();
    return next;
  }

  function remove(account: string, ids: string | null) {
    if (ids === null) throw new HttpError(400, [{ message: "ids is required", parameter: "ids" }]);
    const list = ids.split(",");
    list.forEach((id, i) => {
      if (id.trim() === "")
        throw new HttpError(400, [{ message: "IDs cannot be an empty string", parameter: `ids[${i}]` }]);
    });
    for (const id of list) find(account, id);
    for (const id of list) accountOf(account).delete(id);
    persist();
  }

  /** Bodies read per request, so the log can say which fields each carried. */
  const bodies = new WeakMap<IncomingMessage, unknown>();
  async function route(req: IncomingMessage, url: URL, account: string, preread?: unknown): Promise<[number, unknown]> {
    const json = async () => {
      const body = preread !== undefined ? preread : await readJson(req);
      bodies.set(req, body);
      return body;
    };
    const path = url.pathname.replace(/\/+$/, "");
    if (path === BASE) {
      if (req.method === "GET") return [200, { result: [...accountOf(account).values()].map(view) }];
      if (req.method === "POST") return [201, view(create(account, await json()))];
      if (req.method === "DELETE") {
        remove(account, url.searchParams.get("ids"));
        return [204, undefined];
      }
    } else if (path.startsWith(`${BASE}/`)) {
      const id = decodeURIComponent(path.slice(BASE.length + 1));
      if (req.method === "GET") return [200, view(find(account, id))];
      if (req.method === "PATCH") return [200, view(update(account, id, await json()))];
    } else {
      throw new HttpError(404, [{ message: "not found", field: null }]);
    }
    throw new HttpError(405, [{ message: `method ${req.method} not allowed`, field: null }]);
  }

  /** The write key an echoing proxy could quote: the request body's, else the addressed integration's. */
  async function echoedWriteKey(req: IncomingMessage, url: URL, account: string): Promise<string> {
    if (req.method === "POST" || req.method === "PATCH") {
      const body = (await readJson(req).catch(() => undefined)) as IntegrationBody | undefined;
      return body?.properties?.write_key ?? "";
    }
    const id = url.searchParams.get("ids") ?? decodeURIComponent(url.pathname.slice(BASE.length + 1));
    // A list quotes what it would have answered: the account's first integration.
    const integration = id ? accountOf(account).get(id) : [...accountOf(account).values()][0];
    return integration?.properties.write_key ?? "";
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    if (!loopbackHost(req.headers.host)) {
      // DNS rebinding: a web page whose name now points at 127.0.0.1 sends its own name as Host.
      requests.push({ method: req.method ?? "", path: "", status: 403, fault: "host refused" });
      await drain(req);
      const body = JSON.stringify({
        errors: [{ field: null, message: "the Host header must name a loopback host (localhost, 127.0.0.1, [::1])" }],
      });
      res.writeHead(403, { "content-type": "application/json", connection: "close" }).end(body);
      return;
    }
    const url = new URL(req.url ?? "/", "http://emulator");
    const onBehalfOf = headerValue(req.headers["on-behalf-of"]);
    const account = onBehalfOf ?? "";
    const log = (status: number, fault?: string) => {
      requests.push({
        method: req.method ?? "",
        path: url.pathname,
        ...(url.searchParams.has("ids") ? { ids: url.searchParams.get("ids")! } : {}),
        ...(onBehalfOf !== undefined ? { onBehalfOf } : {}),
        ...(req.headers["user-agent"] ? { userAgent: req.headers["user-agent"] } : {}),
        status,
        ...(fault ? { fault } : {}),
        ...(bodies.has(req) ? { fields: fieldPaths(bodies.get(req)) } : {}),
      });
    };

    const fault = takeFault(req.method ?? "");
    if (fault?.kind === "reset") {
      log(0, "reset");
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "hang") {
      log(0, "hang"); // the client's timeout ends it
      return;
    }
    if (fault?.kind === "html") {
      log(fault.status, "html");
      await drain(req);
      const page = `<html><head><title>${fault.status}</title></head><body><h1>${fault.status}</h1><p>nginx</p></body></html>`;
      res.writeHead(fault.status, { "content-type": "text/html" }).end(page);
      return;
    }
    if (fault?.kind === "late-commit") {
      // The client times out and goes; the server finishes the work later all the same.
      log(0, "late-commit");
      req.socket.setTimeout(0);
      const body =
        req.method === "POST" || req.method === "PATCH" ? await readJson(req).catch(() => undefined) : undefined;
      await new Promise((r) => setTimeout(r, fault.delayMs ?? 1000));
      try {
        authorize(req.headers.authorization, options.apiKeys);
        await route(req, url, account, body);
      } catch {
        // a refused request commits nothing
      }
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "redirect") {
      log(fault.status, "redirect");
      await drain(req);
      res.writeHead(fault.status, { location: fault.location ?? DEFAULT_REDIRECT_LOCATION }).end();
      return;
    }

    let status: number;
    let body: unknown;
    let headers: Record<string, string> = {};
    let shapedBy: string | undefined;
    try {
      authorize(req.headers.authorization, options.apiKeys);
      const rate = rateLimit(fault?.kind !== "status");
      headers = rate.headers;
      // An injected 429 looks like SendGrid's: the window is spent until the next one.
      if (fault?.kind === "status" && fault.status === 429) {
        headers = { ...windowState(options.rateLimit?.limit ?? 600, false).headers, "x-ratelimit-remaining": "0" };
        if (fault.resetOffsetSeconds !== undefined) {
          headers["x-ratelimit-reset"] = String(Math.floor(Date.now() / 1000) + fault.resetOffsetSeconds);
        }
        if (fault.retryAfter !== undefined) headers["retry-after"] = fault.retryAfter;
      }
      if (fault?.kind === "status") {
        shapedBy = `status ${fault.status}`;
        const message = fault.status === 429 ? "too many requests" : "internal error";
        throw new HttpError(fault.status, [{ field: null, message }]);
      }
      if (fault?.kind === "oversized") {
        shapedBy = "oversized";
        throw new HttpError(400, oversizedErrors());
      }
      if (fault?.kind === "echo") {
        shapedBy = "echo";
        throw new HttpError(400, echoErrors(req.headers.authorization, await echoedWriteKey(req, url, account)));
      }
      if (rate.limited) {
        shapedBy = "rate limit";
        throw new HttpError(429, [{ field: null, message: "too many requests" }]);
      }
      [status, body] = await route(req, url, account);
    } catch (error) {
      const e = error instanceof HttpError ? error : new HttpError(500, [{ message: "internal error" }]);
      status = e.status;
      body = { errors: e.errors };
    }
    if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
    if (fault?.kind === "commit-drop") {
      log(0, "commit-drop"); // the change is made; the answer is lost
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "commit-garbled") {
      log(0, "commit-garbled"); // the change is made; the answer is not HTTP
      req.socket.end("HTTP/1.1 2OO OK\r\nContent-Length: nonsense\r\n\r\n{");
      return;
    }
    if (fault?.kind === "commit-status") {
      const gateway = fault.status ?? 524;
      log(gateway, `commit then ${gateway}`); // the change is made; a gateway answers for the origin
      const page = `<html><body><h1>Error ${gateway}</h1><p>A timeout occurred (cloudflare)</p></body></html>`;
      res.writeHead(gateway, { "content-type": "text/html" }).end(page);
      return;
    }
    if (fault?.kind === "malformed" && status < 300) {
      log(status, `malformed ${fault.body}`);
      const [type, text] = malformedBody(fault.body, body);
      // A 204 cannot carry a body: the broken answer is a 200 then (a 2xx all the same).
      res.writeHead(status === 204 ? 200 : status, type ? { "content-type": type } : {}).end(text);
      return;
    }
    if (fault?.kind === "stall" && status < 300) {
      log(status, "stall"); // the change is made; the body never completes
      const text = JSON.stringify(body ?? { ok: true });
      res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) });
      res.write(text.slice(0, Math.floor(text.length / 2)));
      return;
    }
    log(status, shapedBy);
    if (body === undefined) {
      res.writeHead(status, headers).end();
    } else {
      const text = JSON.stringify(body);
      const type = { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) };
      res.writeHead(status, { ...headers, ...type }).end(text);
    }
  }

  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    url: `http://${hostForUrl}:${address.port}`,
    requests,
    integrations: (account = "") => [...accountOf(account).values()],
    inject: (...more) => {
      faults.push(...more.map(allowed));
    },
    setMode: (mode) => {
      Object.assign(options, mode);
    },
    pendingFaults: () => faults.map((f) => ({ ...f })),
    clearFaults: () => void faults.splice(0),
    accounts: () => new Map([...store].map(([k, v]) => [k, [...v.values()]])),
    remove: (id, account = "") => {
      const removed = accountOf(account).delete(id);
      persist();
      return removed;
    },
    seed: (integration, account = "") => {
      const stored = { integration_id: randomUUID(), user_id: userIdOf(account), ...integration };
      accountOf(account).set(stored.integration_id, stored);
      persist();
      return stored;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The store saved by `stateFile`, or an empty one when there is no file yet. */
function loadState(file: string | undefined): Map<string, Map<string, StoredIntegration>> {
  const store = new Map<string, Map<string, StoredIntegration>>();
  if (!file) return store;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return store;
    throw new Error(`state file ${file}: ${(error as Error).message}`);
  }
  let data: { accounts?: Record<string, StoredIntegration[]> };
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error(`state file ${file} is not JSON; delete it to start empty`);
  }
  if (!data || typeof data.accounts !== "object" || data.accounts === null) {
    throw new Error(`state file ${file} has no "accounts" object; delete it to start empty`);
  }
  for (const [account, list] of Object.entries(data.accounts)) {
    if (!Array.isArray(list)) throw new Error(`state file ${file}: accounts[${JSON.stringify(account)}] is not a list`);
    store.set(account, new Map(list.map((i) => [i.integration_id, i])));
  }
  return store;
}

/** About 5 MB of errors: thousands of them, each with a long message, field and parameter. */
function oversizedErrors(): ApiError[] {
  const long = "x".repeat(1000);
  return Array.from({ length: 1700 }, (_, i) => ({
    message: `error ${i}: ${long}`,
    field: `field_${i}_${long}`,
    parameter: `parameter_${i}_${long}`,
  }));
}

/** Errors quoting credentials: the bearer token and write key whole, and the write key cut short. */
function echoErrors(authorization: string | undefined, writeKey: string): ApiError[] {
  const token = /^Bearer (.+)$/.exec(authorization ?? "")?.[1] ?? "";
  return [
    { message: `invalid request with Authorization: Bearer ${token} and write_key=${writeKey}`, field: writeKey },
    { message: "write key rejected", parameter: `write_key=${writeKey.slice(0, Math.ceil(writeKey.length * 0.6))}` },
  ];
}

/** A 2xx body broken as asked; `body` is what would have been sent. */
function malformedBody(kind: Malformed, body: unknown): [string | undefined, string] {
  const json = JSON.stringify(body ?? {});
  const integration = (body ?? {}) as Record<string, unknown>;
  switch (kind) {
    case "truncated":
      return ["application/json", json.slice(0, Math.max(1, Math.floor(json.length / 2)))];
    case "null":
      return ["application/json", "null"];
    case "text":
      return ["text/plain", "OK"];
    case "empty":
      return [undefined, ""];
    case "no-id": {
      const { integration_id: _id, ...rest } = integration;
      return ["application/json", JSON.stringify(rest)];
    }
    case "wrong-types":
      return ["application/json", JSON.stringify({ ...integration, label: 42, filters: { email_events: "open" } })];
    case "foreign-id":
      return ["application/json", JSON.stringify({ ...integration, integration_id: "foreign-0000" })];
  }
}

/** `{label, properties: {write_key}}` → ["label", "properties.write_key"]: the leaves' paths. */
function fieldPaths(body: unknown, prefix = ""): string[] {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return prefix ? [prefix] : [];
  return Object.entries(body).flatMap(([key, value]) => fieldPaths(value, prefix ? `${prefix}.${key}` : key));
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _ of req);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined || v === "" ? undefined : v;
}

function authorize(header: string | undefined, apiKeys: string[] | undefined) {
  const token = /^Bearer (.+)$/.exec(header ?? "")?.[1];
  if (!token || (apiKeys && !apiKeys.some((key) => sameSecret(key, token)))) {
    throw new HttpError(401, [{ field: null, message: "authorization required" }]);
  }
}

/** Compared in constant time (over digests, so lengths do not matter): a local process cannot time its guesses. */
function sameSecret(a: string, b: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * Whether a request's Host header names a loopback host: `localhost`, `127.x.x.x` or `[::1]`, with
 * any port. A page of another origin that a browser sends here (DNS rebinding: its name resolved to
 * 127.0.0.1) carries its own name, and is refused; so is a request without a Host header.
 */
export function loopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  try {
    // Only a host and a port: no user info, path or query that the URL parser would read past.
    return !/[@/\\?#]/.test(host) && isLoopback(new URL(`http://${host}/`).hostname);
  } catch {
    return false;
  }
}

/**
 * The state file, whole or not at all, readable by its owner only (it holds write keys): written
 * to a temporary file beside it that is new (`wx`: an existing file or a link left at that name is
 * never written through) and random, so nobody can place one in advance, then renamed over it,
 * which replaces a link at the state file's own path instead of following it.
 */
export function writeState(file: string, text: string): void {
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(8).toString("hex")}.tmp`);
  writeFileSync(temp, text, { flag: "wx", mode: 0o600 });
  try {
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, [{ message: "request body is not valid JSON", field: "request" }]);
  }
}

interface IntegrationBody {
  label?: string;
  destination?: string;
  filters?: { email_events?: string[] };
  properties?: { write_key?: string; destination_region?: string };
}

/** Spec validation: `IntegrationInput` for POST (required fields), `IntegrationPatch` for PATCH. */
function validate(body: unknown, isCreate: boolean): IntegrationBody {
  const problems: string[] = [];
  const b = (body ?? {}) as Record<string, any>;
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, [{ message: "request body must be a JSON object", field: "request" }]);
  }
  const need = (present: boolean, name: string) => {
    if (isCreate && !present) problems.push(`${name} is required`);
  };
  need(b.destination !== undefined, "destination");
  if (b.destination !== undefined && !(DESTINATIONS as readonly string[]).includes(b.destination)) {
    problems.push("destination must be Segment");
  }
  if (b.label !== undefined && typeof b.label !== "string") problems.push("label must be a string");
  need(b.filters !== undefined, "filters");
  if (b.filters !== undefined) {
    const events = b.filters?.email_events;
    need(events !== undefined, "email_events");
    if (events !== undefined) {
      if (!Array.isArray(events) || events.length === 0) problems.push("email_events must be a non-empty array");
      else if (events.some((e) => !(EMAIL_EVENTS as readonly string[]).includes(e))) {
        problems.push(`email_events must be one of ${EMAIL_EVENTS.join(", ")}`);
      }
    }
  }
  need(b.properties !== undefined, "properties");
  if (b.properties !== undefined) {
    const { write_key, destination_region } = b.properties ?? {};
    need(write_key !== undefined, "write_key");
    need(destination_region !== undefined, "destination_region");
    if (
      write_key !== undefined &&
      (typeof write_key !== "string" || write_key.length < WRITE_KEY_MIN || write_key.length > WRITE_KEY_MAX)
    ) {
      problems.push(`write_key must be between ${WRITE_KEY_MIN} and ${WRITE_KEY_MAX} characters`);
    }
    if (destination_region !== undefined && !(DESTINATION_REGIONS as readonly string[]).includes(destination_region)) {
      problems.push("destination_region must be EU or US");
    }
  }
  // The spec's InvalidRequest: one message, failures separated by commas.
  if (problems.length) throw new HttpError(400, [{ message: problems.join(", "), field: "request" }]);
  return b as IntegrationBody;
}
