// Issue 18: moving a stack from the dynamic resource to the native one without touching SendGrid.
// The program swaps `SegmentIntegration` for the plugin's and adds an alias from the dynamic type
// (the schema's own alias does it in generated SDKs); the engine then keeps the resource's state,
// asks the *new* provider's DiffConfig whether the provider change forces a replacement
// (step_generator.go `providerChanged`, with the old default provider's inputs), and Check/Diff the
// resource through the new provider with the old state. Driven through both providers' gRPC servers.
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator";
import { type Served, serve } from "../provider/native";
import { DYNAMIC_TYPE, RESOURCE_TOKEN } from "../provider/native/schema";
import { secret } from "../provider/native/secrets";
import { connect, type ProviderClient, type ProviderServer, startProviderServer, TYPE } from "./support/engine.cjs";
import { SimEngine, withEngineSecrets } from "./support/engine-sim";
import { API_KEY, WRITE_KEY } from "./support/fixtures";
import { REPO, rootProgramProvider } from "./support/programs";

let emulator: Emulator;
let dynamic: ProviderServer;
let served: Served;
let native: ProviderClient;
let provider: string;

const args = (extra: Record<string, unknown> = {}) => ({
  label: "Moving",
  filters: { emailEvents: ["open", "click"] },
  properties: { writeKey: WRITE_KEY, destinationRegion: "US" },
  ...extra,
});

beforeAll(async () => {
  provider = await rootProgramProvider();
  emulator = await startEmulator({ apiKeys: [API_KEY] });
  dynamic = await startProviderServer({ programDir: REPO });
  await dynamic.configure({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url });
  served = await serve();
  native = connect({ port: served.port, req: createRequire(join(REPO, "package.json")), type: RESOURCE_TOKEN });
  await native.configureArgs({ apiKey: secret(API_KEY), apiBaseUrl: emulator.url });
});
afterAll(async () => {
  native?.close();
  await served?.stop();
  await dynamic?.stop();
  await emulator?.close();
});

describe("moving a stack from the dynamic provider to the plugin", () => {
  it("the alias is the dynamic resource's own type", () => {
    expect(DYNAMIC_TYPE).toBe(TYPE);
  });

  it.each([
    ["with no settings", {}],
    ["with the engine's version key", { version: "3.248.0" }],
  ])("the provider change (dynamic provider %s) does not replace: DiffConfig", async (_case, olds) => {
    const diff = await native.diffConfig(olds, { apiKey: secret(API_KEY), region: "eu", version: "0.3.0" });
    expect(diff.replaces).toEqual([]);
  });

  /** The plugin's next run (a deployment of its own: the provider configured anew), state carried over. */
  const nextRun = async (engine: SimEngine) => {
    await native.configureArgs({ apiKey: secret(API_KEY), apiBaseUrl: emulator.url });
    return engine.next(withEngineSecrets(native));
  };

  it("the first native diff shows no change, nothing is sent, and the plugin manages it afterwards", async () => {
    const before = new SimEngine(dynamic, { __provider: provider });
    await before.up("events", args());
    await before.up("sub", args({ onBehalfOf: "brand-sub", label: "Subuser" }));
    const ids = [...before.state.values()].map((e) => e.id);
    emulator.requests.length = 0;

    // The state the engine carries over under the alias: the dynamic resource's inputs and outputs.
    let after = new SimEngine(withEngineSecrets(native));
    for (const [name, entry] of before.state) after.state.set(name, entry);
    expect(after.state.get("events")!.outputs.__provider).toBe(provider);
    expect(await after.up("events", args())).toBe("same");
    expect(await after.up("sub", args({ onBehalfOf: "brand-sub", label: "Subuser" }))).toBe("same");
    expect(emulator.requests).toEqual([]);

    // The plugin then refreshes (state loses the serialized provider), updates and deletes them: a run each.
    after = await nextRun(after);
    expect(await after.refresh("events")).toBe("refreshed");
    expect(after.state.get("events")!.outputs.__provider).toBeUndefined();
    after = await nextRun(after);
    expect(await after.up("events", args({ label: "Moved" }))).toBe("update");
    expect(emulator.integrations().find((i) => i.integration_id === ids[0])!.label).toBe("Moved");
    after = await nextRun(after);
    await after.destroy("events");
    await after.destroy("sub");
    expect(emulator.integrations()).toEqual([]);
    expect(emulator.integrations("brand-sub")).toEqual([]);
  });

  it("an importId in the old inputs is not adopted again by the plugin", async () => {
    const ui = emulator.seed({
      label: "From the UI",
      destination: "Segment",
      filters: { email_events: ["open"] },
      properties: { write_key: WRITE_KEY, destination_region: "US" },
    });
    const before = new SimEngine(dynamic, { __provider: provider });
    await before.up("adopted", args({ importId: ui.integration_id, filters: { emailEvents: ["open"] } }));
    let after = new SimEngine(withEngineSecrets(native));
    for (const [name, entry] of before.state) after.state.set(name, entry);
    emulator.requests.length = 0;
    expect(await after.up("adopted", args({ importId: ui.integration_id, filters: { emailEvents: ["open"] } }))).toBe(
      "same",
    );
    expect(emulator.requests).toEqual([]);
    after = await nextRun(after);
    await after.destroy("adopted");
  });
});
