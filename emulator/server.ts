/**
 * A local SendGrid-compatible Integrations API (`/v3/marketing/integrations`), faithful to the
 * official OpenAPI spec: the five operations, its error body shapes, Bearer auth, the label
 * default, and the limit of 10 Segment integrations per account, where the `on-behalf-of` header
 * selects the account. Serves loopback only. Used by the tests, by `npm run emulator`, and by users
 * who want to run their own stacks offline (`pulumi-sendgrid-segment/emulator`).
 *
 * It can also misbehave on purpose: a fixed-window rate limit answering 429 with SendGrid's
 * X-RateLimit-* headers, and injected faults (an HTTP status, a connection reset, a request that
 * hangs, or a change committed whose response is then dropped).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
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
  /** Accepted API keys. Default: any non-empty Bearer token. */
  apiKeys?: string[];
  /** How GET and list return the write key; the real API does not document it. Default "full". */
  writeKeyMode?: "full" | "masked" | "omitted";
  /** Delay before every answer, in milliseconds, to model a real network. Default 0. */
  latencyMs?: number;
  /** Integrations per account. Default 10, as SendGrid. */
  limit?: number;
  /** At most `limit` requests per window of `windowSeconds` (default 1), windows aligned to Unix time. */
  rateLimit?: { limit: number; windowSeconds?: number };
  /** Faults to inject from the start (see `Emulator.inject`). */
  faults?: Fault[];
}

/**
 * One misbehaviour, for the next `times` (default 1) requests of `method` (default any):
 * - `status`: answer that HTTP status without doing anything (429 carries the rate-limit headers);
 * - `reset`: close the connection before doing anything;
 * - `hang`: never answer (the client's timeout decides);
 * - `commit-drop`: do the work, then close the connection without answering.
 */
export type Fault =
  | { kind: "status"; status: number; method?: string; times?: number }
  | { kind: "reset" | "hang" | "commit-drop"; method?: string; times?: number };

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
  /** Faults still queued. */
  pendingFaults(): Fault[];
  /** Add an integration directly, as if made in the SendGrid UI (ids are generated unless given). */
  seed(
    integration: Omit<StoredIntegration, "integration_id" | "user_id"> & Partial<StoredIntegration>,
    account?: string,
  ): StoredIntegration;
  close(): Promise<void>;
}

/** `POST:503:2` → { method: "POST", kind: "status", status: 503, times: 2 }. */
export function parseFault(spec: string): Fault {
  const [method = "", kind = "", times = "1"] = spec.split(":");
  const count = Number(times);
  if (!/^(GET|POST|PATCH|DELETE|\*)$/i.test(method) || !Number.isInteger(count) || count < 1) {
    throw new Error(`fault ${JSON.stringify(spec)}: expected METHOD:KIND[:TIMES], e.g. POST:503:2`);
  }
  if (/^\d{3}$/.test(kind)) return { kind: "status", status: Number(kind), method: method.toUpperCase(), times: count };
  if (kind === "reset" || kind === "hang" || kind === "commit-drop")
    return { kind, method: method.toUpperCase(), times: count };
  throw new Error(`fault ${JSON.stringify(spec)}: KIND must be an HTTP status, reset, hang or commit-drop`);
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

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? "127.0.0.1";
  const limit = options.limit ?? INTEGRATION_LIMIT;
  const store = new Map<string, Map<string, StoredIntegration>>();
  const requests: LoggedRequest[] = [];
  const faults: Array<Fault & { times: number }> = (options.faults ?? []).map((f) => ({ ...f, times: f.times ?? 1 }));
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

  const view = (i: StoredIntegration): StoredIntegration => {
    const mode = options.writeKeyMode ?? "full";
    if (mode === "full") return i;
    const { write_key, ...rest } = i.properties;
    const properties =
      mode === "masked" ? { ...rest, write_key: `${"*".repeat(write_key.length - 4)}${write_key.slice(-4)}` } : rest;
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
      label: patch.label ?? current.label,
      destination: patch.destination ?? current.destination,
      filters: { email_events: patch.filters?.email_events ?? current.filters.email_events },
      properties: {
        write_key: patch.properties?.write_key ?? current.properties.write_key,
        destination_region: patch.properties?.destination_region ?? current.properties.destination_region,
      },
    };
    accountOf(account).set(id, next);
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
  }

  async function route(req: IncomingMessage, url: URL, account: string): Promise<[number, unknown]> {
    const path = url.pathname.replace(/\/+$/, "");
    if (path === BASE) {
      if (req.method === "GET") return [200, { result: [...accountOf(account).values()].map(view) }];
      if (req.method === "POST") return [201, create(account, await readJson(req))];
      if (req.method === "DELETE") {
        remove(account, url.searchParams.get("ids"));
        return [204, undefined];
      }
    } else if (path.startsWith(`${BASE}/`)) {
      const id = decodeURIComponent(path.slice(BASE.length + 1));
      if (req.method === "GET") return [200, view(find(account, id))];
      if (req.method === "PATCH") return [200, update(account, id, await readJson(req))];
    } else {
      throw new HttpError(404, [{ message: "not found", field: null }]);
    }
    throw new HttpError(405, [{ message: `method ${req.method} not allowed`, field: null }]);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
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
      }
      if (fault?.kind === "status") {
        shapedBy = `status ${fault.status}`;
        const message = fault.status === 429 ? "too many requests" : "internal error";
        throw new HttpError(fault.status, [{ field: null, message }]);
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
      for (const f of more) faults.push({ ...f, times: f.times ?? 1 });
    },
    pendingFaults: () => faults.map((f) => ({ ...f })),
    accounts: () => new Map([...store].map(([k, v]) => [k, [...v.values()]])),
    seed: (integration, account = "") => {
      const stored = { integration_id: randomUUID(), user_id: userIdOf(account), ...integration };
      accountOf(account).set(stored.integration_id, stored);
      return stored;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined || v === "" ? undefined : v;
}

function authorize(header: string | undefined, apiKeys: string[] | undefined) {
  const token = /^Bearer (.+)$/.exec(header ?? "")?.[1];
  if (!token || (apiKeys && !apiKeys.includes(token))) {
    throw new HttpError(401, [{ field: null, message: "authorization required" }]);
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
