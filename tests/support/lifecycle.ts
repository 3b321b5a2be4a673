// Whole-lifecycle scenarios through the engine protocol, shared by the in-repo engine test and the
// packed-consumer matrix. Each step asserts what the API saw, so a silent no-op would fail.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { Emulator } from "../../emulator";
import type { ProviderServer as Server } from "./engine.cjs";
import { WRITE_KEY, WRITE_KEY_2 } from "./fixtures";

type EmulatorLike = Pick<Emulator, "url" | "requests" | "integrations" | "seed">;

const BASE = "/v3/marketing/integrations";
const calls = (emulator: EmulatorLike) => emulator.requests.map((r) => `${r.method} ${r.path}`);

type LifecycleServer = Pick<Server, "check" | "create" | "diff" | "update" | "read" | "delete">;

/**
 * Configure → Check → Create → Diff → Update → Read, then Delete in a deployment of its own (a
 * destroy: the engine never deletes a resource in the run that registered it, step_generator.go:2423
 * GenerateDeletes at pulumi/pulumi 1b59498), through the provider `nextDeployment` gives. One API
 * call per operation.
 */
export async function runLifecycle(
  server: LifecycleServer,
  emulator: EmulatorLike,
  provider: string,
  name: string,
  nextDeployment: () => Promise<LifecycleServer>,
) {
  const news = (extra: Record<string, unknown> = {}) => ({
    label: "Lifecycle",
    filters: { emailEvents: ["open", "click", "open"] },
    properties: { writeKey: WRITE_KEY, destinationRegion: "US" },
    ...extra,
    __provider: provider,
  });
  emulator.requests.length = 0;

  const checked = await server.check(name, {}, news());
  expect(checked.failures).toEqual([]);
  expect(checked.inputs.filters).toEqual({ emailEvents: ["click", "open"] });

  const created = await server.create(name, checked.inputs);
  expect(calls(emulator)).toEqual([`POST ${BASE}`]);
  const live = emulator.integrations().find((i) => i.integration_id === created.id);
  expect(live).toMatchObject({ label: "Lifecycle", properties: { write_key: WRITE_KEY } });

  emulator.requests.length = 0;
  expect(
    (await server.diff(name, created.id, created.properties, news({ filters: { emailEvents: ["click", "open"] } })))
      .changes,
  ).toBe(false);
  const diff = await server.diff(name, created.id, created.properties, news({ label: "Renamed" }));
  expect(diff).toMatchObject({ changes: true, replaces: [] });
  expect((await server.diff(name, created.id, created.properties, news({ onBehalfOf: "sub" }))).replaces).toEqual([
    "onBehalfOf",
  ]);
  expect(emulator.requests).toEqual([]);

  const updatedInputs = (
    await server.check(
      name,
      created.properties,
      news({ label: "Renamed", properties: { writeKey: WRITE_KEY_2, destinationRegion: "EU" } }),
    )
  ).inputs;
  const updated = await server.update(name, created.id, created.properties, updatedInputs);
  expect(calls(emulator)).toEqual([`PATCH ${BASE}/${created.id}`]);
  expect(updated.properties).toMatchObject({
    integrationId: created.id,
    label: "Renamed",
    properties: { writeKey: WRITE_KEY_2 },
  });

  emulator.requests.length = 0;
  const read = await server.read(name, created.id, updated.properties);
  expect(calls(emulator)).toEqual([`GET ${BASE}`]); // refresh reads the place's list
  expect(read).toMatchObject({
    id: created.id,
    properties: { label: "Renamed", properties: { destinationRegion: "EU" } },
  });

  const destroying = await nextDeployment();
  emulator.requests.length = 0;
  await destroying.delete(name, created.id, read.properties);
  expect(emulator.requests.map((r) => `${r.method} ${r.ids}`)).toEqual([`DELETE ${created.id}`]);
  expect(emulator.integrations().some((i) => i.integration_id === created.id)).toBe(false);
}

export interface StateFixture {
  release: string;
  type: string;
  name: string;
  id: string;
  inputs: Record<string, any>;
  outputs: Record<string, any>;
}

export const loadStateFixture = (release: string): StateFixture =>
  JSON.parse(readFileSync(join(__dirname, "..", "fixtures", `state-${release}.json`), "utf8"));

/**
 * State written by an earlier release (its own `__provider` and outputs) is refreshed, diffed,
 * updated and deleted by the code installed now, and never replaced.
 */
/** An upgrade from `fixture`'s release: refresh, no-change diff, update; the delete in a deployment of its own. */
export async function runUpgrade(
  server: Server,
  emulator: EmulatorLike,
  fixture: StateFixture,
  provider: string,
  nextDeployment: () => Promise<LifecycleServer>,
) {
  const o = fixture.outputs;
  emulator.seed({
    integration_id: fixture.id,
    user_id: o.userId,
    label: o.label,
    destination: o.destination,
    filters: { email_events: o.filters.emailEvents },
    properties: { write_key: o.properties.writeKey, destination_region: o.properties.destinationRegion },
  });
  emulator.requests.length = 0;

  // Refresh runs with the old state's own __provider.
  const refreshed = await server.read(fixture.name, fixture.id, fixture.outputs);
  expect(refreshed.id).toBe(fixture.id);
  // The same values; refresh records the state shape's version (old state has none: version 1).
  expect(fixture.outputs.stateVersion).toBeUndefined();
  expect(refreshed.properties).toEqual({
    ...fixture.outputs,
    sendgridRegion: "global",
    sendgridKeyDigest: expect.stringMatching(/^[0-9a-f]{32}$/),
    stateVersion: 3,
  });

  // The same program under the new release: its own __provider, same arguments → no change.
  const { __provider: _old, ...oldInputs } = fixture.inputs;
  const unchanged = (await server.check(fixture.name, fixture.outputs, { ...oldInputs, __provider: provider })).inputs;
  expect(await server.diff(fixture.name, fixture.id, refreshed.properties, unchanged)).toMatchObject({
    changes: false,
    replaces: [],
  });

  const relabelled = (
    await server.check(fixture.name, fixture.outputs, { ...oldInputs, label: "After upgrade", __provider: provider })
  ).inputs;
  expect(await server.diff(fixture.name, fixture.id, refreshed.properties, relabelled)).toMatchObject({
    changes: true,
    replaces: [],
  });
  const updated = await server.update(fixture.name, fixture.id, refreshed.properties, relabelled);
  expect(updated.properties).toMatchObject({ integrationId: fixture.id, label: "After upgrade", __provider: provider });

  await (await nextDeployment()).delete(fixture.name, fixture.id, updated.properties);
  expect(emulator.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["GET 200", "PATCH 200", "DELETE 204"]);
  expect(emulator.integrations().some((i) => i.integration_id === fixture.id)).toBe(false);
}
