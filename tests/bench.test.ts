// Keeps `npm run bench` working: the same script on a tiny N. Only figures that do not depend on
// the machine are asserted here (API calls per operation, footprint, no failures); timing targets
// belong to the benchmark itself, never to tests.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";
import { REPO } from "./support/programs";

const dir = mkdtempSync(join(tmpdir(), "bench-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("runs end to end on a tiny N and writes every figure", async () => {
  const out = join(dir, "results.json");
  const args = [
    "--n",
    "4",
    "--rounds",
    "1",
    "--latency-ms",
    "5",
    "--rate",
    "2",
    "--rate-n",
    "4",
    "--cold-runs",
    "1",
    "--refresh-n",
    "6",
    "--places",
    "2",
    "--bad-events",
    "1000",
    "--out",
    out,
    "--plugin",
    `${process.execPath} ${join(REPO, "dist/provider/native/main.js")}`,
  ];
  const { stdout } = await promisify(execFile)(process.execPath, [join(REPO, "bench", "bench.mjs"), ...args], {
    timeout: 120_000,
  });
  expect(stdout).toContain("operation | provider (ms) | minimal provider (ms) | native plugin (ms) | bare (ms)");
  const results = JSON.parse(readFileSync(out, "utf8"));
  expect(Object.keys(results.overhead.ops)).toEqual(["create", "read", "update", "delete"]);
  for (const op of Object.values<Record<string, number>>(results.overhead.ops)) {
    expect(op.providerMs).toBeGreaterThan(0);
    expect(op.nativeMs).toBeGreaterThan(0);
    expect(op.bareMs).toBeGreaterThan(0);
  }
  expect(results.apiCalls).toEqual({ preview: 0, create: 1, previewOfChange: 0, update: 1, refresh: 1, delete: 1 });
  expect(results.rateLimit).toMatchObject({ n: 4, failures: 0 });
  expect(results.footprint.providerBytes).toBeLessThanOrEqual(2048);
  expect(results.coldStart.peakRssKiB).toBeGreaterThan(0);
  expect(results.coldStart.nativeMs).toBeGreaterThan(0);
  expect(results.coldStart.nativeStartMs).toBeGreaterThan(0);
  expect(results.targets.map((t: { name: string }) => t.name)).toContain("cold start: + vs empty provider (ms)");
  // Issue 23: a refresh lists each place once, through either door; per-id reads send one GET each.
  expect(results.refresh.plain.map((r: { requests: number }) => r.requests)).toEqual([2, 2, 6]);
  expect(results.refresh.rateLimited.map((r: { requests: number }) => r.requests).slice(0, 2)).toEqual([2, 2]);
  expect(results.check).toMatchObject({ badEvents: 1000, failures: 1 });
}, 150_000);
