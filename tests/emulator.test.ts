// The emulator answers like the spec: operations, error shapes, auth, label default, limit.
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, parseFault, startEmulator } from "../emulator";
import { apiKeysFrom } from "../emulator/cli";
import { loopbackHost, writeState } from "../emulator/server";

let emulator: Emulator;
const KEY = "SG.emulator-test";
beforeAll(async () => {
  emulator = await startEmulator({ apiKeys: [KEY], allowEchoFault: true });
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

  it("has its own usage line, a banner with its real settings, and stops on SIGINT", async () => {
    const { spawn, spawnSync } = await import("node:child_process");
    const help = spawnSync(process.execPath, ["dist/emulator/cli.js", "--help"], { encoding: "utf8" });
    expect(help.stdout).toMatch(/^Usage: sendgrid-segment-emulator \[options\]/);
    const child = spawn(
      process.execPath,
      ["dist/emulator/cli.js", "--port", "0", "--api-key", "SG.other", "--fault", "GET:stall", "--latency-ms", "5"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    await new Promise<void>((resolve) =>
      child.stdout.on("data", (d) => {
        out += d;
        if (out.includes("Stop it with Ctrl-C")) resolve();
      }),
    );
    expect(out).toContain("only the 1 given with --api-key");
    expect(out).toContain("<the key you gave with --api-key>");
    expect(out).not.toContain("SG.emulator");
    expect(out).toContain("faults:       GET:stall");
    expect(out).toContain("latency 5 ms");
    expect(out).toContain("in memory (gone when it stops)");
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
  });

  it("SIGTERM to `npm run emulator` itself (not its node child) stops the server", async () => {
    const { spawn } = await import("node:child_process");
    const npm = spawn("npm", ["run", "--silent", "emulator", "--", "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const url = await new Promise<string>((resolve) => {
      let out = "";
      npm.stdout.on("data", (d) => {
        out += d;
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m && out.includes("Stop it with Ctrl-C")) resolve(m[1]!);
      });
    });
    expect((await fetch(`${url}/v3/marketing/integrations`)).status).toBe(401);
    const exited = new Promise((resolve) => npm.once("exit", resolve));
    npm.kill("SIGTERM");
    await exited;
    await new Promise((r) => setTimeout(r, 300));
    await expect(fetch(`${url}/v3/marketing/integrations`)).rejects.toThrow();
  });

  it("names the flag in every error", async () => {
    const { spawnSync } = await import("node:child_process");
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ["dist/emulator/cli.js", ...args], { encoding: "utf8" }).stderr;
    // One line each, naming the flag; no stack trace.
    expect(run("--port", "x")).toBe(
      'sendgrid-segment-emulator: --port must be a whole number from 0 to 65535, got "x"\n',
    );
    expect(run("--port", "99999")).toBe(
      'sendgrid-segment-emulator: --port must be a whole number from 0 to 65535, got "99999"\n',
    );
    expect(run("--rate-limit", "0")).toBe(
      'sendgrid-segment-emulator: --rate-limit must be a whole number from 1, got "0"\n',
    );
    expect(run("--state-file", "/nonexistent-folder/state.json")).toBe(
      "sendgrid-segment-emulator: --state-file /nonexistent-folder/state.json: the folder /nonexistent-folder does not exist\n",
    );
    expect(run("--state-file", "dist")).toBe("sendgrid-segment-emulator: --state-file dist: is a folder, not a file\n");
    expect(run("--fault", "GET:explode")).toContain('--fault "GET:explode": KIND must be');
    expect(run("--rate-limit", "5", "--rate-window", "0")).toContain("--rate-window must be a whole number from 1");
    expect(run("--write-key-mode", "half")).toContain("--write-key-mode must be full, masked or omitted");
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

describe("--state-file", () => {
  const dirs: string[] = [];
  const stateFile = async () => {
    const { mkdtempSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "emulator-state-"));
    dirs.push(dir);
    return join(dir, "state.json");
  };
  afterEach(async () => {
    const { rmSync } = await import("node:fs");
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("keeps integrations across restarts, so a second run sees what the first made", async () => {
    const { readFileSync } = await import("node:fs");
    const file = await stateFile();
    const first = await startEmulator({ stateFile: file });
    const seeded = first.seed({ ...input(), label: "Kept" }, "sub");
    await first.close();
    expect(JSON.parse(readFileSync(file, "utf8")).accounts.sub[0].integration_id).toBe(seeded.integration_id);

    const second = await startEmulator({ stateFile: file });
    try {
      expect(second.integrations("sub")).toEqual([seeded]);
      const res = await fetch(`${second.url}/v3/marketing/integrations?ids=${seeded.integration_id}`, {
        method: "DELETE",
        headers: { authorization: "Bearer k", "on-behalf-of": "sub" },
      });
      expect(res.status).toBe(204);
      expect(JSON.parse(readFileSync(file, "utf8")).accounts.sub).toEqual([]);
    } finally {
      await second.close();
    }
  });

  it("refuses a state file that is not its own, naming it", async () => {
    const { writeFileSync } = await import("node:fs");
    const file = await stateFile();
    writeFileSync(file, "not json");
    await expect(startEmulator({ stateFile: file })).rejects.toThrow(`state file ${file} is not JSON`);
    writeFileSync(file, "{}");
    await expect(startEmulator({ stateFile: file })).rejects.toThrow(`state file ${file} has no "accounts" object`);
  });
});

describe("faults", () => {
  it("parses --fault specs", async () => {
    expect(parseFault("POST:503:2")).toEqual({ kind: "status", status: 503, method: "POST", times: 2 });
    expect(parseFault("*:commit-drop")).toEqual({ kind: "commit-drop", method: "*", times: 1 });
    expect(() => parseFault("POST:explode")).toThrow(/KIND must be/);
    expect(() => parseFault("FETCH:503")).toThrow(/METHOD:KIND/);
    expect(() => parseFault("GET:503:1:2")).toThrow(/METHOD:KIND/);
  });

  it("parses the hostile kinds: redirect-3xx, malformed-<sort>, stall, oversized, echo", () => {
    expect(parseFault("get:redirect-307", "http://127.0.0.1:1")).toEqual({
      kind: "redirect",
      status: 307,
      location: "http://127.0.0.1:1",
      method: "GET",
      times: 1,
    });
    expect(parseFault("POST:malformed-no-id:3")).toEqual({
      kind: "malformed",
      body: "no-id",
      method: "POST",
      times: 3,
    });
    for (const kind of ["stall", "oversized", "echo"]) expect(parseFault(`*:${kind}`).kind).toBe(kind);
    expect(() => parseFault("GET:redirect-303")).toThrow(/redirect-<301\|302\|307\|308>/);
    expect(() => parseFault("GET:malformed-weird")).toThrow(/malformed-<truncated/);
  });

  it("redirect answers a 3xx to the location without doing the work", async () => {
    emulator.inject({ kind: "redirect", status: 308, location: "http://127.0.0.1:9/x", method: "POST" });
    const before = emulator.integrations().length;
    const res = await fetch(`${emulator.url}/v3/marketing/integrations`, {
      method: "POST",
      redirect: "manual",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify(input()),
    });
    expect(res.status).toBe(308);
    expect(res.headers.get("location")).toBe("http://127.0.0.1:9/x");
    expect(emulator.integrations()).toHaveLength(before);
  });

  it.each([
    ["truncated", (t: string) => expect(() => JSON.parse(t)).toThrow()],
    ["null", (t: string) => expect(t).toBe("null")],
    ["text", (t: string) => expect(t).toBe("OK")],
    ["empty", (t: string) => expect(t).toBe("")],
    ["no-id", (t: string) => expect(JSON.parse(t)).not.toHaveProperty("integration_id")],
    [
      "wrong-types",
      (t: string) => expect(JSON.parse(t)).toMatchObject({ label: 42, filters: { email_events: "open" } }),
    ],
    ["foreign-id", (t: string) => expect(JSON.parse(t).integration_id).toBe("foreign-0000")],
  ] as const)("malformed-%s commits, then answers its 2xx with a broken body", async (body, assert) => {
    emulator.inject({ kind: "malformed", body, method: "POST" });
    const before = emulator.integrations().length;
    const res = await fetch(`${emulator.url}/v3/marketing/integrations`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify(input()),
    });
    expect(res.status).toBe(201);
    assert(await res.text());
    expect(emulator.integrations()).toHaveLength(before + 1);
  });

  it("oversized answers a 400 of about 5 MB; echo quotes the key and the stored write key", async () => {
    emulator.inject({ kind: "oversized", method: "GET" });
    const big = await api("GET", "");
    expect(big.status).toBe(400);
    expect(JSON.stringify(big.body).length).toBeGreaterThan(5_000_000);
    const created = await api(
      "POST",
      "",
      input({ properties: { write_key: "wk_echo_me_1", destination_region: "US" } }),
    );
    emulator.inject({ kind: "echo", method: "DELETE" });
    const echoed = await api("DELETE", `?ids=${created.body.integration_id}`);
    expect(echoed.status).toBe(400);
    expect(JSON.stringify(echoed.body)).toContain(KEY);
    expect(echoed.body.errors[0].field).toBe("wk_echo_me_1");
    expect(echoed.body.errors[1].parameter).toBe("write_key=wk_echo_");
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
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, SENDGRID_EMULATOR_API_KEY: "k" } },
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

describe("a safe local service (issue 25)", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), "emulator-safe-"));
    dirs.push(dir);
    return dir;
  };
  const modeOf = (file: string) => statSync(file).mode & 0o777;
  const input = {
    label: "L",
    destination: "Segment",
    filters: { email_events: ["open"] },
    properties: { write_key: "wk_state_file_1", destination_region: "US" },
  };

  it("writes its state file 0600, replacing a wider one, and leaves no temporary file", async () => {
    const dir = folder();
    const file = join(dir, "state.json");
    writeFileSync(file, JSON.stringify({ version: 1, accounts: {} }), { mode: 0o644 });
    chmodSync(file, 0o644);
    const emulator = await startEmulator({ stateFile: file });
    try {
      emulator.seed(input);
      expect(modeOf(file)).toBe(0o600);
      expect(JSON.parse(readFileSync(file, "utf8")).accounts[""]).toHaveLength(1);
      expect(readdirSync(dir)).toEqual(["state.json"]);
    } finally {
      await emulator.close();
    }
  });

  it("never writes through a link: not one at the old temporary name, nor the state file's own", async () => {
    const dir = folder();
    const victim = join(dir, "victim.txt");
    writeFileSync(victim, "untouched\n");
    const file = join(dir, "state.json");
    // The old code wrote `${file}.tmp`, following a link an attacker had put there.
    symlinkSync(victim, `${file}.tmp`);
    const emulator = await startEmulator({ stateFile: file });
    try {
      emulator.seed(input);
      expect(readFileSync(victim, "utf8")).toBe("untouched\n");
      // A link at the state file's path is replaced by the file, not written through.
      rmSync(file);
      symlinkSync(victim, file);
      emulator.seed(input);
      expect(readFileSync(victim, "utf8")).toBe("untouched\n");
      expect(lstatSync(file).isSymbolicLink()).toBe(false);
      expect(modeOf(file)).toBe(0o600);
    } finally {
      await emulator.close();
    }
  });

  it("writeState: replaces the file whole, leaves no temporary file, and removes it when the rename fails", () => {
    const dir = folder();
    const file = join(dir, "state.json");
    writeState(file, "one\n");
    writeState(file, "two\n");
    expect(readFileSync(file, "utf8")).toBe("two\n");
    expect(readdirSync(dir)).toEqual(["state.json"]);
    // Renaming over a folder fails: the error is thrown, and the temporary file does not stay behind.
    const taken = join(dir, "taken");
    mkdirSync(join(taken, "inside"), { recursive: true });
    expect(() => writeState(taken, "three\n")).toThrow();
    expect(readdirSync(dir).sort()).toEqual(["state.json", "taken"]);
  });

  it("refuses requests whose Host is not a loopback name or address (DNS rebinding)", async () => {
    const emulator = await startEmulator({ apiKeys: [KEY] });
    const { port } = new URL(emulator.url);
    const get = (host: string | undefined) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const socket = connect(Number(port), "127.0.0.1", () => {
          socket.end(
            `GET /v3/marketing/integrations HTTP/1.0\r\n${host === undefined ? "" : `Host: ${host}\r\n`}` +
              `Authorization: Bearer ${KEY}\r\n\r\n`,
          );
        });
        let text = "";
        socket.on("data", (d) => (text += d));
        socket.on("error", reject);
        socket.on("close", () =>
          resolve({ status: Number(/^HTTP\/1\.\d (\d{3})/.exec(text)?.[1]), body: text.split("\r\n\r\n")[1] ?? "" }),
        );
      });
    try {
      for (const host of [
        `127.0.0.1:${port}`,
        `localhost:${port}`,
        "localhost",
        `LOCALHOST:${port}`,
        `127.1.2.3:${port}`,
        `[::1]:${port}`,
      ]) {
        expect((await get(host)).status, host).toBe(200);
      }
      for (const host of [
        `evil.example:${port}`,
        "evil.example",
        `127.0.0.1.evil.example:${port}`,
        `localhost.evil.example:${port}`,
        `localhost@evil.example:${port}`,
        `evil.example/@localhost`,
        "0.0.0.0",
        "",
        undefined,
      ]) {
        const refused = await get(host);
        expect(refused.status, String(host)).toBe(403);
        expect(JSON.parse(refused.body)).toEqual({
          errors: [{ field: null, message: "the Host header must name a loopback host (localhost, 127.0.0.1, [::1])" }],
        });
      }
      expect(emulator.requests.at(-1)).toMatchObject({ status: 403, fault: "host refused" });
    } finally {
      await emulator.close();
    }
  });

  it("loopbackHost: a loopback host with any port, nothing else", () => {
    for (const host of ["localhost", "localhost:1", "127.0.0.1:80", "[::1]", "[::1]:8787", "127.255.0.1"]) {
      expect(loopbackHost(host), host).toBe(true);
    }
    for (const host of [
      "",
      undefined,
      "[::2]",
      "128.0.0.1",
      "localhost:x",
      "a@localhost",
      "localhost/x",
      "localhost?x",
      "localhost#x",
      "local\\host",
    ]) {
      expect(loopbackHost(host), String(host)).toBe(false);
    }
  });

  it("the echo fault, which quotes credentials, only when the emulator was started allowing it", async () => {
    const strict = await startEmulator({ apiKeys: [KEY] });
    try {
      const message =
        "the echo fault answers with the request's API key and write key: start the emulator with allowEchoFault: true (--allow-echo-fault) to inject it";
      expect(() => strict.inject({ kind: "echo" })).toThrow(message);
      expect(strict.pendingFaults()).toEqual([]);
      await expect(startEmulator({ faults: [{ kind: "echo" }] })).rejects.toThrow(message);
      strict.inject({ kind: "hang", method: "DELETE" }); // other faults as before
      expect(strict.pendingFaults()).toEqual([{ kind: "hang", method: "DELETE", times: 1 }]);
    } finally {
      await strict.close();
    }
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ["dist/emulator/cli.js", "--port", "0", ...args], {
        encoding: "utf8",
        timeout: 10_000,
      });
    const refused = run("--fault", "GET:echo");
    expect(refused.status).toBe(2);
    expect(refused.stderr).toBe(
      "sendgrid-segment-emulator: --fault ...:echo answers with the request's API key and write key: add --allow-echo-fault to inject it\n",
    );
  });

  /** Starts the command; resolves with its banner and url once it listens. */
  async function command(args: string[], env: Record<string, string> = {}) {
    const child = spawn(process.execPath, ["dist/emulator/cli.js", "--port", "0", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "", ...env },
    });
    const banner = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
        if (out.includes("Stop it with Ctrl-C")) resolve(out);
      });
      child.once("exit", (code) => reject(new Error(`emulator exited ${code}`)));
    });
    const url = /listening on (\S+)/.exec(banner)![1]!;
    const get = (key: string) =>
      fetch(`${url}/v3/marketing/integrations`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);
    const stop = () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      return exited;
    };
    return { banner, get, stop };
  }

  it("the command always requires a key: one generated for the run when none is given", async () => {
    const { banner, get, stop } = await command([]);
    try {
      const key =
        /API keys: {5}(SG\.emulator-[A-Za-z0-9_-]{24}) \(generated for this run; give your own with SENDGRID_EMULATOR_API_KEY\)/.exec(
          banner,
        )?.[1];
      expect(key).toBeDefined();
      expect(banner).toContain(`pulumi config set --secret sendgrid:apiKey ${key}`);
      expect(await get("anything")).toBe(401);
      expect(await get(key!)).toBe(200);
    } finally {
      await stop();
    }
    const other = await command([]);
    try {
      // A new key each run.
      expect(/API keys: {5}(\S+)/.exec(other.banner)?.[1]).not.toBe(/API keys: {5}(\S+)/.exec(banner)?.[1]);
    } finally {
      await other.stop();
    }
  });

  it("takes its key from SENDGRID_EMULATOR_API_KEY or --api-key-file, never printing it", async () => {
    const fromEnv = await command([], { SENDGRID_EMULATOR_API_KEY: "SG.from-the-environment" });
    try {
      expect(fromEnv.banner).toContain("only the 1 given in SENDGRID_EMULATOR_API_KEY");
      expect(fromEnv.banner).not.toContain("SG.from-the-environment");
      expect(await fromEnv.get("SG.from-the-environment")).toBe(200);
      expect(await fromEnv.get("SG.other")).toBe(401);
    } finally {
      await fromEnv.stop();
    }
    const file = join(folder(), "keys");
    writeFileSync(file, "SG.first-from-file\r\n\n  SG.second-from-file  \n");
    const fromFile = await command(["--api-key-file", file], { SENDGRID_EMULATOR_API_KEY: "SG.not-this-one" });
    try {
      expect(fromFile.banner).toContain("only the 2 given in --api-key-file");
      expect(fromFile.banner).not.toContain("-from-file");
      expect(await fromFile.get("SG.first-from-file")).toBe(200);
      expect(await fromFile.get("SG.second-from-file")).toBe(200);
      expect(await fromFile.get("SG.not-this-one")).toBe(401);
    } finally {
      await fromFile.stop();
    }
  });

  it("apiKeysFrom: flags and file together, the variable alone, else generated; a file must hold a key", () => {
    const dir = folder();
    const file = join(dir, "keys");
    writeFileSync(file, "a-key\n");
    expect(apiKeysFrom(["f1"], file, "v")).toEqual({
      keys: ["f1", "a-key"],
      from: "with --api-key and in --api-key-file",
      generated: false,
    });
    expect(apiKeysFrom(["f1", "f2"], undefined, "v")).toEqual({
      keys: ["f1", "f2"],
      from: "with --api-key",
      generated: false,
    });
    expect(apiKeysFrom(undefined, undefined, "v")).toEqual({
      keys: ["v"],
      from: "in SENDGRID_EMULATOR_API_KEY",
      generated: false,
    });
    const generated = apiKeysFrom([], undefined, "");
    expect(generated.generated).toBe(true);
    expect(generated.keys[0]).toMatch(/^SG\.emulator-[A-Za-z0-9_-]{24}$/);
    writeFileSync(file, " \n\n");
    expect(() => apiKeysFrom(undefined, file, "v")).toThrow(`--api-key-file ${file}: holds no key`);
    expect(() => apiKeysFrom(undefined, join(dir, "missing"), "v")).toThrow(
      `--api-key-file ${join(dir, "missing")}: cannot be read (ENOENT)`,
    );
  });

  it("started with an IPC channel, it stops when the channel closes (its starter stopped or died)", async () => {
    const child = spawn(process.execPath, ["dist/emulator/cli.js", "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    const url = await new Promise<string>((resolve) => {
      let out = "";
      child.stdout!.on("data", (d) => {
        out += d;
        const m = /listening on (\S+)/.exec(out);
        if (m && out.includes("Stop it")) resolve(m[1]!);
      });
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.disconnect();
    expect(await exited).toBe(0);
    await expect(fetch(`${url}/v3/marketing/integrations`)).rejects.toThrow();
  });

  it("is an entry of its own: the library, the dynamic provider, the plugin's entry and the commands never load it", () => {
    const probe = `
      for (const entry of process.argv.slice(1)) require(entry);
      const loaded = Object.keys(require.cache).filter((file) => file.includes("/dist/emulator/"));
      process.stdout.write(JSON.stringify(loaded));
    `;
    const entries = ["provider/index.js", "provider/dynamic/index.js", "provider/native/server.js", "cli/audit.js"];
    const result = spawnSync(process.execPath, ["-e", probe, ...entries.map((e) => join(process.cwd(), "dist", e))], {
      encoding: "utf8",
    });
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual([]);
    // And the package says so: its own export and bin.
    const pkg = JSON.parse(readFileSync("package.json", "utf8"));
    expect(pkg.exports["./emulator"].default).toBe("./dist/emulator/index.js");
    expect(pkg.bin["sendgrid-segment-emulator"]).toBe("dist/emulator/cli.js");
  });
});
