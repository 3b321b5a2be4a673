// The emulator answers like the spec: operations, error shapes, auth, label default, limit.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator";

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
