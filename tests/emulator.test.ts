// The emulator answers like the spec: operations, error shapes, auth, label default, limit.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, parseFault, startEmulator } from "../emulator";

let emulator: Emulator;
const KEY = "SG.emulator-test";
beforeAll(async () => {
  emulator = await startEmulator({ apiKeys: [KEY] });
});
afterAll(() => emulator.close());

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${emulator.url}/v3/marketing/integrations${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const input = (extra: Record<string, unknown> = {}) => ({
  destination: "Segment",
  filters: { email_events: ["open"] },
  properties: { write_key: "a123456", destination_region: "US" },
  ...extra,
});

describe("emulator", () => {
  it("listens on loopback only", () => {
    expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("requires a known Bearer key: 401 with an errors array", async () => {
    const res = await fetch(`${emulator.url}/v3/marketing/integrations`, { headers: { authorization: "Bearer nope" } });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ errors: [{ field: null, message: "authorization required" }] });
  });

  it("creates (201) with the label default, gets, lists, patches and deletes", async () => {
    const created = await api("POST", "", input());
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      label: "Untitled Integration",
      destination: "Segment",
      user_id: expect.any(String),
    });
    const id = created.body.integration_id;
    expect((await api("GET", `/${id}`)).body).toEqual(created.body);
    expect((await api("GET", "")).body.result).toContainEqual(created.body);
    const patched = await api("PATCH", `/${id}`, { label: "Renamed" });
    expect(patched).toMatchObject({ status: 200, body: { label: "Renamed", filters: { email_events: ["open"] } } });
    expect((await api("DELETE", `?ids=${id}`)).status).toBe(204);
    expect(await api("GET", `/${id}`)).toEqual({
      status: 404,
      body: { errors: [{ message: `integration does not exist (${id})` }] },
    });
  });

  it("validates bodies with the spec's InvalidRequest shape", async () => {
    const res = await api("POST", "", input({ properties: { write_key: "a1", destination_region: "APAC" } }));
    expect(res).toEqual({
      status: 400,
      body: {
        errors: [
          {
            field: "request",
            message: "write_key must be between 6 and 51 characters, destination_region must be EU or US",
          },
        ],
      },
    });
    expect((await api("POST", "", { filters: { email_events: ["open"] } })).status).toBe(400);
  });

  it("rejects empty ids on delete with the parameter named", async () => {
    expect(await api("DELETE", "?ids=")).toEqual({
      status: 400,
      body: { errors: [{ message: "IDs cannot be an empty string", parameter: "ids[0]" }] },
    });
  });

  it("limits each account (on-behalf-of) to 10 integrations with a 403", async () => {
    const sub = { "on-behalf-of": "limited-sub" };
    for (let i = 0; i < 10; i++) expect((await api("POST", "", input(), sub)).status).toBe(201);
    const eleventh = await api("POST", "", input(), sub);
    expect(eleventh.status).toBe(403);
    expect(eleventh.body.errors[0].message).toMatch(/limit of 10/);
    expect((await api("POST", "", input(), { "on-behalf-of": "other-sub" })).status).toBe(201);
    expect(emulator.integrations("limited-sub")).toHaveLength(10);
  });
});

describe("npm run emulator", () => {
  it("starts on loopback, prints its URL and serves the API until stopped", async () => {
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, ["dist/emulator/cli.js", "--port", "0", "--api-key", KEY], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d) => {
          out += d;
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once("exit", (code) => reject(new Error(`emulator exited ${code}`)));
      });
      const res = await fetch(`${url}/v3/marketing/integrations`, { headers: { authorization: `Bearer ${KEY}` } });
      expect(await res.json()).toEqual({ result: [] });
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("refuses a non-loopback host and unknown flags", async () => {
    const { spawnSync } = await import("node:child_process");
    const remote = spawnSync(process.execPath, ["dist/emulator/cli.js", "--host", "0.0.0.0"], { encoding: "utf8" });
    expect(remote.status).toBe(2);
    expect(remote.stderr).toContain("--host must be a loopback address");
    const unknown = spawnSync(process.execPath, ["dist/emulator/cli.js", "--prot", "1"], { encoding: "utf8" });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("--prot");
  });
});

describe("faults", () => {
  it("parses --fault specs", async () => {
    expect(parseFault("POST:503:2")).toEqual({ kind: "status", status: 503, method: "POST", times: 2 });
    expect(parseFault("*:commit-drop")).toEqual({ kind: "commit-drop", method: "*", times: 1 });
    expect(() => parseFault("POST:explode")).toThrow(/KIND must be/);
    expect(() => parseFault("FETCH:503")).toThrow(/METHOD:KIND/);
  });

  it("answers a rate-limited request with 429 and SendGrid's headers", async () => {
    const limited = await startEmulator({ rateLimit: { limit: 1, windowSeconds: 60 } });
    try {
      const get = () => fetch(`${limited.url}/v3/marketing/integrations`, { headers: { authorization: "Bearer k" } });
      const ok = await get();
      expect(ok.headers.get("x-ratelimit-remaining")).toBe("0");
      const res = await get();
      expect(res.status).toBe(429);
      expect(await res.json()).toEqual({ errors: [{ field: null, message: "too many requests" }] });
      expect(res.headers.get("x-ratelimit-limit")).toBe("1");
      const reset = Number(res.headers.get("x-ratelimit-reset"));
      expect(reset * 1000).toBeGreaterThan(Date.now());
      expect(reset % 60).toBe(0); // windows aligned to Unix time
    } finally {
      await limited.close();
    }
  });

  it("commit-drop makes the change and closes the connection unanswered", async () => {
    emulator.inject({ kind: "commit-drop", method: "POST" });
    const before = emulator.integrations().length;
    await expect(api("POST", "", input())).rejects.toThrow();
    expect(emulator.integrations()).toHaveLength(before + 1);
    expect(emulator.requests.at(-1)).toMatchObject({ method: "POST", status: 0, fault: "commit-drop" });
  });

  it("the CLI takes --rate-limit and --fault", async () => {
    const { spawn } = await import("node:child_process");
    const child = spawn(
      process.execPath,
      ["dist/emulator/cli.js", "--port", "0", "--fault", "GET:503:1", "--rate-limit", "100"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    try {
      const url = await new Promise<string>((resolve) => {
        child.stdout.on("data", (d) => {
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(String(d));
          if (m) resolve(m[1]!);
        });
      });
      const get = () => fetch(`${url}/v3/marketing/integrations`, { headers: { authorization: "Bearer k" } });
      expect((await get()).status).toBe(503);
      const second = await get();
      expect(second.status).toBe(200);
      expect(second.headers.get("x-ratelimit-limit")).toBe("100");
    } finally {
      child.kill("SIGTERM");
    }
  });
});
