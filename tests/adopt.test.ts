// Bringing existing integrations under management: importId, and refresh correcting inputs.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type Emulator, startEmulator } from "../emulator";
import { diffIntegration } from "../provider/diff";
import * as provider from "../provider/dynamic";
import { API_KEY, configureRequest, desired, rejectionOf, WRITE_KEY } from "./support/fixtures";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ apiKeys: [API_KEY] });
});
afterAll(() => emulator.close());
beforeEach(async () => {
  provider.newDeployment();
  await provider.configure(
    configureRequest({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url }) as never,
  );
  emulator.requests.length = 0;
});

const fromUi = (account = "") =>
  emulator.seed(
    {
      label: "Made in the UI",
      destination: "Segment",
      filters: { email_events: ["processed"] },
      properties: { write_key: "wk_ui_made_1", destination_region: "EU" },
    },
    account,
  );

describe("importId", () => {
  it("adopts the integration: one GET and one PATCH to the declared state, no POST; its id becomes the resource id", async () => {
    const ui = fromUi();
    const { inputs, failures } = await provider.check({}, desired({ importId: ui.integration_id }));
    expect(failures).toEqual([]);
    const { id, outs } = await provider.create(inputs);
    expect(id).toBe(ui.integration_id);
    expect(emulator.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["GET 200", "PATCH 200"]);
    expect(emulator.integrations().filter((i) => i.integration_id === id)).toEqual([
      expect.objectContaining({
        label: "Prod events",
        filters: { email_events: ["click", "delivered", "open"] },
        properties: { write_key: WRITE_KEY, destination_region: "US" },
      }),
    ]);
    expect(outs).toMatchObject({ integrationId: id, importId: id, userId: ui.user_id, label: "Prod events" });
  });

  it("adopts a subuser's integration with on-behalf-of", async () => {
    const ui = fromUi("sub-a");
    const { inputs } = await provider.check({}, desired({ importId: ui.integration_id, onBehalfOf: "sub-a" }));
    expect((await provider.create(inputs)).id).toBe(ui.integration_id);
    expect(emulator.requests.every((r) => r.onBehalfOf === "sub-a")).toBe(true);
  });

  it("fails naming the id when there is nothing to adopt, and creates nothing", async () => {
    const before = emulator.accounts();
    const { inputs } = await provider.check({}, desired({ importId: "does-not-exist" }));
    const error = await rejectionOf(provider.create(inputs));
    expect(error.message).toBe(
      "Unable to create SendGrid Segment integration from importId does-not-exist: HTTP 404 Not Found: " +
        "no integration does-not-exist in the account; nothing was created. To create a new one, remove importId from the program",
    );
    expect(emulator.requests.map((r) => r.method)).toEqual(["GET"]);
    expect(emulator.accounts()).toEqual(before);
  });

  it("names the subuser it looked in when a subuser's id is not there", async () => {
    const { inputs } = await provider.check({}, desired({ importId: "nope-1", onBehalfOf: "sub-b" }));
    expect((await rejectionOf(provider.create(inputs))).message).toBe(
      "Unable to create SendGrid Segment integration from importId nope-1: HTTP 404 Not Found: " +
        'no integration nope-1 in subuser "sub-b"; nothing was created. To create a new one, remove importId from the program',
    );
  });

  it("is validated by check like any id", async () => {
    const { failures } = await provider.check({}, desired({ importId: "a,b" }));
    expect(failures.map((f) => f.property)).toEqual(["importId"]);
  });

  it("is not a change once adopted: changing or removing it neither updates nor replaces", async () => {
    const ui = fromUi();
    const { inputs } = await provider.check({}, desired({ importId: ui.integration_id }));
    const { outs } = await provider.create(inputs);
    for (const importId of ["another-id", undefined]) {
      const news = (await provider.check(outs, desired({ importId }))).inputs;
      expect(diffIntegration(outs as never, news)).toMatchObject({ changes: false, replaces: [] });
    }
  });
});

describe("refresh corrects inputs", () => {
  it("returns the live values as inputs when it finds drift, so the next preview shows a true diff", async () => {
    const { id, outs } = await provider.create((await provider.check({}, desired())).inputs);
    const live = emulator.integrations().find((i) => i.integration_id === id)!;
    live.label = "Renamed in the UI";
    live.filters.email_events = ["bounce", "open"];
    const result = await provider.read(id, outs);
    expect(result.inputs).toEqual({
      label: "Renamed in the UI",
      destination: "Segment",
      filters: { emailEvents: ["bounce", "open"] },
      properties: { writeKey: WRITE_KEY, destinationRegion: "US" },
    });
    // The program still declares the old values: the next diff is a real change back.
    expect(diffIntegration(result.props as never, desired()).changed).toEqual(["label", "filters.emailEvents"]);
  });

  it("leaves inputs alone when nothing drifted", async () => {
    const { id, outs } = await provider.create((await provider.check({}, desired({ label: "Stable" }))).inputs);
    expect((await provider.read(id, outs)).inputs).toBeUndefined();
  });
});

describe("adoption happens once, and never twice for one integration (issue 16)", () => {
  it("check keeps importId for a first create ({} olds) and drops it once the resource has state", async () => {
    const ui = fromUi();
    const first = await provider.check({}, desired({ importId: ui.integration_id }));
    expect(first.inputs.importId).toBe(ui.integration_id);
    const provided = await provider.check({ __provider: "x" }, desired({ importId: ui.integration_id }));
    expect(provided.inputs.importId).toBe(ui.integration_id); // only the serialized provider: still a first create
    const again = await provider.check(first.inputs, desired({ importId: ui.integration_id }));
    expect(again.failures).toEqual([]);
    expect(again.inputs).not.toHaveProperty("importId");
  });

  it("a second resource adopting the same id fails (ERR_SENDGRID_CONFLICT) before any request", async () => {
    const ui = fromUi();
    const { inputs } = await provider.check({}, desired({ importId: ui.integration_id }));
    await provider.create(inputs);
    emulator.requests.length = 0;
    const error = await rejectionOf(provider.create({ ...inputs, label: "Second" }));
    expect(error.code).toBe("ERR_SENDGRID_CONFLICT");
    expect(error.message).toBe(
      `Unable to create SendGrid Segment integration from importId ${ui.integration_id}: another resource of this stack ` +
        `already manages integration ${ui.integration_id}; two resources cannot manage one integration, nothing was changed`,
    );
    expect(emulator.requests).toEqual([]);
  });

  it("an id a resource in state holds cannot be adopted by another", async () => {
    const ui = fromUi();
    await provider.diff(ui.integration_id, { ...desired(), integrationId: ui.integration_id }, desired());
    const { inputs } = await provider.check({}, desired({ importId: ui.integration_id }));
    expect((await rejectionOf(provider.create(inputs))).code).toBe("ERR_SENDGRID_CONFLICT");
  });

  it("a failed adoption releases the id: a later one may take it", async () => {
    const ui = fromUi();
    const { inputs } = await provider.check({}, desired({ importId: ui.integration_id }));
    emulator.inject({ kind: "status", status: 400, method: "PATCH" });
    await rejectionOf(provider.create(inputs));
    const { id } = await provider.create(inputs);
    expect(id).toBe(ui.integration_id);
  });

  it("deleting, in the same deployment, an id a create adopted only drops it from state", async () => {
    const ui = fromUi();
    const { inputs } = await provider.check({}, desired({ importId: ui.integration_id }));
    const { id, outs } = await provider.create(inputs);
    emulator.requests.length = 0;
    await provider.delete(id, outs);
    expect(emulator.requests).toEqual([]);
    expect(emulator.integrations().map((i) => i.integration_id)).toContain(id);
  });

  it("an adoption's unusable PATCH answer is read back, like an update's", async () => {
    const ui = fromUi();
    const { inputs } = await provider.check({}, desired({ importId: ui.integration_id }));
    emulator.inject({ kind: "malformed", body: "text", method: "PATCH" });
    const { id, outs } = await provider.create(inputs);
    expect(id).toBe(ui.integration_id);
    expect(outs).toMatchObject({ label: "Prod events", importId: ui.integration_id });
    expect(emulator.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["GET 200", "PATCH 200", "GET 200"]);
  });

  it("an adoption PATCHes every field to the declared state", async () => {
    // The provider loaded afresh for this test: which fields adoption sets is module-level.
    vi.resetModules();
    const fresh: typeof provider = await import("../provider/dynamic/index.js");
    await fresh.configure(
      configureRequest({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url }) as never,
    );
    const ui = fromUi();
    const { inputs } = await fresh.check({}, desired({ importId: ui.integration_id }));
    await fresh.create(inputs);
    expect(emulator.requests.at(-1)!.fields).toEqual([
      "label",
      "destination",
      "filters.email_events",
      "properties.write_key",
      "properties.destination_region",
    ]);
  });
});
