// The shared operations (provider/operations.ts) in-process, with what only the plugin sends the
// dynamic provider's runtime cannot: preview answers, ignoreChanges, URNs, an import's id, and a
// control with warnings; against the emulator. Also the listings cache (places.ts).
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type Emulator, startEmulator } from "../emulator";
import { keyDigest, type Listing } from "../provider/client";
import { type Control, UNBOUNDED } from "../provider/control";
import type * as Operations from "../provider/operations";
import type * as Places from "../provider/places";
import { UNKNOWN } from "../provider/schema";
import { API_KEY, desired, expectNoSecretPart, rejectionOf, WRITE_KEY, WRITE_KEY_2 } from "./support/fixtures";

/** A second key of another account at the same host (the emulator accepts both). */
const OTHER_KEY = "SG.other-account-key-7d2e";
const BASE = "/v3/marketing/integrations";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ apiKeys: [API_KEY, OTHER_KEY], allowEchoFault: true });
});
afterAll(() => emulator.close());
// Each test loads operations.ts (and places.ts) afresh: their module-level helpers (what outputs
// record of the client, what ties a listing to its holder, which keys are known) are checked as
// loaded for the test, not as loaded once for the file.
let IntegrationOperations: typeof Operations.IntegrationOperations;
let parseImportId: typeof Operations.parseImportId;
let Listings: typeof Places.Listings;
let describePlace: typeof Places.describePlace;
let notProof: typeof Places.notProof;
type IntegrationOperations = Operations.IntegrationOperations;
beforeEach(async () => {
  vi.resetModules();
  ({ IntegrationOperations, parseImportId } = await import("../provider/operations.js"));
  ({ Listings, describePlace, notProof } = await import("../provider/places.js"));
  for (const [account, list] of emulator.accounts()) for (const i of list) emulator.remove(i.integration_id, account);
  emulator.clearFaults();
  emulator.requests.length = 0;
});

/** One deployment's operations, configured for the emulator (plus `extra` stack config). */
function deployment(extra: Record<string, string> = {}) {
  const config: Record<string, string> = { "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url, ...extra };
  return new IntegrationOperations((key) => config[key]);
}

/** A control whose warnings are kept, as the engine's log would show them. */
function watched(): Control & { warnings: string[] } {
  const warnings: string[] = [];
  return { signal: new AbortController().signal, warn: (message) => void warnings.push(message), warnings };
}

const calls = () => emulator.requests.map((r) => `${r.method} ${r.status}`);

/** An integration made in the SendGrid UI. */
const fromUi = (account = "", writeKey = "wk_ui_made_1") =>
  emulator.seed(
    {
      label: "Made in the UI",
      destination: "Segment",
      filters: { email_events: ["processed"] },
      properties: { write_key: writeKey, destination_region: "EU" },
    },
    account,
  );

/** A resource created in `ops`, as the engine does it (check, then create). */
async function created(ops: IntegrationOperations, overrides: Record<string, unknown> = {}) {
  const { inputs, failures } = await ops.check({}, desired(overrides));
  expect(failures).toEqual([]);
  const result = await ops.create(inputs);
  emulator.requests.length = 0;
  return result;
}

describe("preview answers (the plugin's Create and Update with preview)", () => {
  it("a create shows the checked inputs, ids not known yet, the account's region, and sends nothing", async () => {
    const ops = deployment({ "sendgrid:region": "eu" });
    const { inputs } = await ops.check({}, desired());
    expect(ops.previewCreate(inputs)).toStrictEqual({
      id: "",
      outs: {
        ...inputs,
        integrationId: UNKNOWN,
        userId: UNKNOWN,
        sendgridRegion: "eu",
        sendgridKeyDigest: UNKNOWN,
        stateVersion: 3,
      },
    });
    expect(emulator.requests).toEqual([]);
  });

  it("an adoption's id is known at preview: it is the importId (unless that is still unknown)", async () => {
    const ops = deployment();
    expect(ops.previewCreate({ ...desired(), importId: "5a1234" }).outs.integrationId).toBe("5a1234");
    expect(ops.previewCreate({ ...desired(), importId: UNKNOWN }).outs.integrationId).toBe(UNKNOWN);
  });

  it("the region is a named account's, the default account's, or unknown when it cannot be read yet", async () => {
    const ops = deployment({ "sendgrid:accounts": JSON.stringify({ brand: { region: "eu" } }) });
    const regionOf = (account: unknown) => ops.previewCreate({ ...desired(), account }).outs.sendgridRegion;
    expect(regionOf("brand")).toBe("eu");
    expect(regionOf(undefined)).toBe("global");
    expect(regionOf(UNKNOWN)).toBe(UNKNOWN); // an account from another resource's output
    expect(regionOf("nobody")).toBe(UNKNOWN); // not configured: the create itself says so
    // Not text (check refuses it): never looked up, even a list that names a configured account.
    expect(regionOf(["brand"])).toBe(UNKNOWN);
    expect(deployment({ "sendgrid:region": "mars" }).previewCreate(desired()).outs.sendgridRegion).toBe(UNKNOWN);
  });

  it("an update shows the new inputs over state, with state's ids, importId and region", async () => {
    const ops = deployment({ "sendgrid:region": "eu" });
    const olds = {
      ...desired(),
      integrationId: "abc",
      userId: "u1",
      importId: "abc",
      sendgridRegion: "global", // as recorded; a region moved since fails the diff, not the preview
      sendgridKeyDigest: "d1",
      stateVersion: 2,
    };
    // A changed importId is no change once adopted: state's stays.
    const news = { ...desired({ label: "Renamed", importId: "another-id" }), integrationId: "other", userId: "u2" };
    expect(ops.previewUpdate(olds, news)).toStrictEqual({
      outs: { ...olds, label: "Renamed", stateVersion: 3 },
    });
    expect(emulator.requests).toEqual([]);
  });

  it("an update of state without importId or region has none and takes the account's region", async () => {
    const ops = deployment({ "sendgrid:region": "eu" });
    const olds = { ...desired(), integrationId: "abc", userId: "u1" };
    const { outs } = ops.previewUpdate(olds, desired({ label: "Renamed" }));
    expect(outs).not.toHaveProperty("importId");
    expect(outs).toMatchObject({ integrationId: "abc", userId: "u1", label: "Renamed", sendgridRegion: "eu" });
  });
});

describe("ignoreChanges (the plugin sends the engine's)", () => {
  const state = async (ops: IntegrationOperations) => created(ops, { label: "Old" });

  it("diff: a field under an ignored path is no change, and others still are", async () => {
    const ops = deployment();
    const { id, outs } = await state(ops);
    const news = desired({ label: "New", filters: { emailEvents: ["open"] } });
    expect((await ops.diff(id, outs, news, ["label"])).changed).toEqual(["filters.emailEvents"]);
    expect((await ops.diff(id, outs, news, ["filters"])).changed).toEqual(["label"]);
    expect((await ops.diff(id, outs, news, ['filters["emailEvents"]', "label"])).changes).toBe(false);
    expect((await ops.diff(id, outs, news, ["*"])).changes).toBe(false);
    expect((await ops.diff(id, outs, news)).changed).toEqual(["label", "filters.emailEvents"]);
  });

  it("update: an ignored field is neither sent nor recorded anew; the label travels as it lives", async () => {
    const ops = deployment();
    const { id, outs } = await state(ops);
    const news = desired({ label: "New", filters: { emailEvents: ["open"] } });
    const { outs: after } = await ops.update(id, outs, news, UNBOUNDED, ["label"]);
    expect(emulator.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${BASE}`, `PATCH ${BASE}/${id}`]);
    expect(emulator.requests[1]!.fields).toEqual(["label", "filters.email_events"]);
    expect(emulator.integrations()[0]).toMatchObject({ label: "Old", filters: { email_events: ["open"] } });
    expect(after).toMatchObject({ label: "Old", filters: { emailEvents: ["open"] } });
  });

  it("update: with the events ignored, only the label is sent, and state's events stay in the outputs", async () => {
    const ops = deployment();
    const { id, outs } = await state(ops);
    emulator.integrations()[0]!.filters.email_events = ["bounce"]; // changed in the UI
    const news = desired({ label: "New", filters: { emailEvents: ["open"] } });
    const { outs: after } = await ops.update(id, outs, news, UNBOUNDED, ["filters.emailEvents"]);
    expect(emulator.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`PATCH ${BASE}/${id}`]);
    expect(emulator.requests[0]!.fields).toEqual(["label"]);
    expect(emulator.integrations()[0]).toMatchObject({ label: "New", filters: { email_events: ["bounce"] } });
    expect(after).toMatchObject({ label: "New", filters: { emailEvents: ["click", "delivered", "open"] } });
  });
});

describe("an update that lists the place first (the label is unchanged)", () => {
  it("fails, saying to refresh, when the listing proves the integration gone", async () => {
    const ops = deployment();
    const { id, outs } = await created(ops);
    emulator.remove(id);
    const error = await rejectionOf(ops.update(id, outs, desired({ filters: { emailEvents: ["open"] } })));
    expect(error.code).toBe("ERR_SENDGRID_CONFIG");
    expect(error.message).toBe(
      `Unable to update SendGrid Segment integration ${id}: it no longer exists in the account (deleted outside Pulumi?). ` +
        "Run `pulumi refresh` to drop it from state; `pulumi up` then creates it again " +
        "(remove importId from the program first, if it names this integration)",
    );
    expect(calls()).toEqual(["GET 200"]);
  });

  it("says the list proves nothing when the key is not the one that last saw it", async () => {
    const ops = deployment({ "sendgrid:apiKey": OTHER_KEY });
    const id = "0b1f3c5e-0000-4000-8000-000000000001";
    const olds = { ...desired(), integrationId: id, userId: "", sendgridKeyDigest: keyDigest(API_KEY) };
    const error = await rejectionOf(ops.update(id, olds, desired({ filters: { emailEvents: ["open"] } })));
    expect(error.code).toBe("ERR_SENDGRID_UNPROVEN");
    expect(error.message).toMatch(
      new RegExp(
        `^Unable to update SendGrid Segment integration ${id}: it is not in the list of its place, but that does not prove it is gone \\(the list shows no integration of the account that owns it, and the API key is not the one that last saw it`,
      ),
    );
  });

  it("a failed listing says which place it was listing", async () => {
    const ops = deployment();
    const { id, outs } = await created(ops, { onBehalfOf: "sub-l" });
    emulator.inject({ kind: "status", status: 400, method: "GET" });
    const error = await rejectionOf(
      ops.update(id, outs, desired({ onBehalfOf: "sub-l", filters: { emailEvents: [] } })),
    );
    expect(error.message).toMatch(
      new RegExp(`^Unable to update SendGrid Segment integration ${id}: listing subuser "sub-l" failed: HTTP 400`),
    );
  });

  it("a listing without the label sends state's label, or the default when state has none either", async () => {
    const ops = deployment();
    for (const label of ["Kept", undefined]) {
      const seeded = emulator.seed({
        label: undefined,
        destination: "Segment",
        filters: { email_events: ["open"] },
        properties: { write_key: WRITE_KEY, destination_region: "US" },
      } as never);
      const id = seeded.integration_id;
      const olds = { ...desired({ label }), integrationId: id, userId: seeded.user_id };
      await ops.update(id, olds, desired({ label, filters: { emailEvents: ["bounce"] } }));
      expect(emulator.integrations().find((i) => i.integration_id === id)!.label).toBe(label ?? "Untitled Integration");
    }
  });
});

describe("an import's id (`[<account>:][<subuser>/]<id>`)", () => {
  it.each([
    ["5a1234", { id: "5a1234" }],
    ["marketing/5a1234", { id: "5a1234", onBehalfOf: "marketing" }],
    ["team/marketing/5a1234", { id: "5a1234", onBehalfOf: "team/marketing" }], // the subuser is all before the last "/"
    ["eu-brand:marketing/5a1234", { id: "5a1234", onBehalfOf: "marketing", account: "eu-brand" }],
    ["eu-brand:5a1234", { id: "5a1234", account: "eu-brand" }],
    ["/5a1234", { id: "5a1234" }], // an empty subuser is the parent account
    ["9eu:5a1234", { id: "9eu:5a1234" }], // not an account name: all of it is the id (and refused as one)
    ["eu:5a1234\nx", { id: "eu:5a1234\nx" }], // a line break never hides what follows it
  ])("%j is %j", (given, parsed) => {
    expect(parseImportId(given)).toStrictEqual(parsed);
  });

  it("an import's read lists the place the id names, with the key it was given: found, or gone", async () => {
    const ops = deployment({
      "sendgrid:accounts": JSON.stringify({ brand: { apiBaseUrl: emulator.url, apiKey: API_KEY } }),
    });
    const ui = fromUi("marketing");
    const read = await ops.read(`brand:marketing/${ui.integration_id}`, {});
    expect(emulator.requests.map((r) => `${r.method} ${r.path} ${r.onBehalfOf}`)).toEqual([`GET ${BASE} marketing`]);
    expect(read).toStrictEqual({
      id: ui.integration_id,
      props: {
        account: "brand",
        onBehalfOf: "marketing",
        label: "Made in the UI",
        destination: "Segment",
        filters: { emailEvents: ["processed"] },
        properties: { writeKey: "wk_ui_made_1", destinationRegion: "EU" },
        integrationId: ui.integration_id,
        userId: ui.user_id,
        sendgridRegion: "global",
        sendgridKeyDigest: keyDigest(API_KEY),
        stateVersion: 3,
      },
      inputs: {
        account: "brand",
        onBehalfOf: "marketing",
        label: "Made in the UI",
        destination: "Segment",
        filters: { emailEvents: ["processed"] },
        properties: { writeKey: "wk_ui_made_1", destinationRegion: "EU" },
      },
    });
    // An id its place does not have: gone (the listing is made with the key the import is for).
    expect(await ops.read("5a1234", {})).toStrictEqual({ id: "", props: {} });
  });

  it("a subuser that cannot be a header value fails, naming the id, before any request", async () => {
    const error = await rejectionOf(deployment().read("bad\tsub/5a1234", {}));
    expect(error.code).toBe("ERR_SENDGRID_CONFIG");
    expect(error.message).toBe(
      'Unable to import SendGrid Segment integration 5a1234: the subuser before its "/" is not a subuser name ' +
        "(or `account-id <id>`) of printable ASCII without leading or trailing spaces: it is sent as the on-behalf-of HTTP header",
    );
    expect(emulator.requests).toEqual([]);
  });

  it("state's read takes its id whole, and its place from state", async () => {
    const ops = deployment();
    const { id, outs } = await created(ops, { onBehalfOf: "sub-r" });
    expect((await ops.read(id, outs)).id).toBe(id);
    expect(emulator.requests.map((r) => r.onBehalfOf)).toEqual(["sub-r"]);
  });
});

describe("the region an integration was recorded in", () => {
  it("a provider moved to another region refuses diff, read, update and delete, and sends nothing", async () => {
    const { id, outs } = await created(deployment());
    const moved = deployment({ "sendgrid:region": "eu" });
    const message = (doing: string) =>
      `Unable to ${doing} SendGrid Segment integration ${id}: it lives in SendGrid region "global", but the account now uses ` +
      `region "eu" (sendgrid:region; host ${new URL(emulator.url).host}). Set the region back to "global" to manage it; ` +
      "to move integrations to another region, replace them (`pulumi up --replace`) while the old region is still " +
      "configured, or delete them first. Nothing was changed";
    for (const [doing, call] of [
      ["diff", () => moved.diff(id, outs, desired())],
      ["read", () => moved.read(id, outs)],
      ["update", () => moved.update(id, outs, desired({ label: "New" }))],
      ["delete", () => moved.delete(id, outs)],
    ] as const) {
      const error = await rejectionOf(call());
      expect(error.code).toBe("ERR_SENDGRID_CONFIG");
      expect(error.message).toBe(message(doing));
    }
    expect(emulator.requests).toEqual([]);
  });

  it("names the account and subuser that moved", async () => {
    const ops = deployment({
      "sendgrid:accounts": JSON.stringify({ brand: { apiBaseUrl: emulator.url, apiKey: API_KEY } }),
    });
    const olds = { ...desired({ account: "brand", onBehalfOf: "s" }), integrationId: "abc", sendgridRegion: "eu" };
    expect((await rejectionOf(ops.diff("abc", olds, olds))).message).toMatch(
      /^Unable to diff SendGrid Segment integration abc: it lives in SendGrid region "eu", but account "brand", subuser "s" now uses region "global" \(sendgrid:accounts\.brand\.region or SENDGRID_ACCOUNT_BRAND_REGION; host /,
    );
  });

  it("state written before regions were recorded is not checked", async () => {
    const { id, outs } = await created(deployment());
    const { sendgridRegion: _r, ...old } = outs;
    const moved = deployment({ "sendgrid:region": "eu" });
    expect((await moved.diff(id, old, desired())).changes).toBe(false);
    expect((await moved.read(id, old)).props).toMatchObject({ sendgridRegion: "eu" });
  });

  it("diff with settings that cannot be read leaves it to the operation that needs them", async () => {
    const ops = deployment({ "sendgrid:region": "mars" });
    const olds = { ...desired(), integrationId: "abc", sendgridRegion: "global" };
    expect((await ops.diff("abc", olds, olds)).changes).toBe(false);
    expect((await rejectionOf(ops.read("abc", olds))).message).toBe(
      'Unable to read SendGrid Segment integration abc: Invalid sendgrid:region: expected "global" or "eu", got a string of 4 characters',
    );
  });
});

describe("what proves an integration gone: its owner listed, or the key that last saw it", () => {
  const ID = "0b1f3c5e-0000-4000-8000-0000000000aa";
  /** State of an integration that is not in the place, last seen by `key`, owned by `userId`. */
  const stateOf = (userId: unknown, key: string | undefined) => ({
    ...desired(),
    integrationId: ID,
    userId,
    ...(key === undefined ? {} : { sendgridKeyDigest: keyDigest(key) }),
  });
  const readWith = (key: string, userId: unknown, lastSeenBy: string | undefined) =>
    deployment({ "sendgrid:apiKey": key }).read(ID, stateOf(userId, lastSeenBy));

  it("an empty place, listed with the key that last saw it: gone", async () => {
    expect(await readWith(API_KEY, "u1", API_KEY)).toStrictEqual({ id: "", props: {} });
  });

  it("an empty place, listed with another key (or state that recorded none): not proven, nothing dropped", async () => {
    for (const lastSeenBy of [OTHER_KEY, undefined]) {
      const error = await rejectionOf(readWith(API_KEY, "u1", lastSeenBy));
      expect(error.code).toBe("ERR_SENDGRID_UNPROVEN");
      expect(error.message).toBe(
        `Unable to read SendGrid Segment integration ${ID}: it is not in the list of its place, but that does not prove it is gone ` +
          "(the list shows no integration of the account that owns it, and the API key is not the one that last saw it " +
          "(a key changed since, or another account's), so the list may be another account's. If it was deleted in SendGrid, " +
          "`pulumi state delete <its URN>` drops it from state; if the key is another account's, set back the key that created it); " +
          "nothing was changed",
      );
    }
  });

  it("a place listing another integration of its owner: gone, whatever the key", async () => {
    const other = fromUi();
    expect(await readWith(OTHER_KEY, other.user_id, API_KEY)).toStrictEqual({ id: "", props: {} });
  });

  it("a place whose integrations all belong to another user: not proven, even with the same key", async () => {
    const other = fromUi();
    const error = await rejectionOf(readWith(API_KEY, "u-elsewhere", API_KEY));
    expect(error.message).toContain(
      `(the integrations listed belong to SendGrid user ${other.user_id}, not to user u-elsewhere that owns it: the API key may be another account's)`,
    );
  });

  it("an empty userId (an answer that had none) is no owner: the key decides", async () => {
    fromUi();
    expect(await readWith(API_KEY, "", API_KEY)).toStrictEqual({ id: "", props: {} });
  });

  it("a userId that is not text (state edited by hand) is no owner either: the key decides", async () => {
    fromUi();
    expect(await readWith(API_KEY, 1000001, API_KEY)).toStrictEqual({ id: "", props: {} });
  });

  it("a delete proven by the same key's empty listing is done; by another key's, it fails and keeps state", async () => {
    const ops = deployment();
    const { id, outs } = await created(ops);
    emulator.remove(id);
    emulator.requests.length = 0;
    const other = deployment({ "sendgrid:apiKey": OTHER_KEY });
    expect((await rejectionOf(other.delete(id, outs))).code).toBe("ERR_SENDGRID_UNPROVEN");
    await ops.delete(id, outs);
    expect(calls()).toEqual(["DELETE 404", "GET 200", "DELETE 404", "GET 200"]);
  });
});

describe("ids a staying resource keeps, and deletes in a place", () => {
  it("a delete of an id that a resource diffed without replacement holds is skipped, saying why", async () => {
    const ops = deployment();
    const { id, outs } = await created(ops);
    await ops.diff(id, outs, desired({ label: "Renamed" })); // stays (an update)
    const control = watched();
    await ops.delete(id, outs, control); // another entry of state pointing at the same integration
    expect(emulator.requests).toEqual([]);
    expect(emulator.integrations()).toHaveLength(1);
    expect(control.warnings).toEqual([
      `Integration ${id} was not deleted: a resource this deployment keeps (its diff asked for no replacement) points at ` +
        "it too: a resource renamed without an alias whose old and new names both ended up in state, or the resumed " +
        "replacement of an interrupted delete-before-replace, which deleted it then. Only this entry is dropped from state",
    ]);
    await ops.delete(id, outs); // no warn to call (the dynamic runtime's control): skipped all the same
    expect(emulator.integrations()).toHaveLength(1);
  });

  it("a resource diffed for replacement is not kept: its delete deletes", async () => {
    const ops = deployment();
    const { id, outs } = await created(ops);
    expect((await ops.diff(id, outs, desired({ onBehalfOf: "elsewhere" }))).replaces).toEqual(["onBehalfOf"]);
    const control = watched();
    await ops.delete(id, outs, control);
    expect(calls()).toEqual(["DELETE 204"]);
    expect(control.warnings).toEqual([]);
  });

  it("a delete of an id a create of this deployment adopted is skipped, saying why", async () => {
    const ops = deployment();
    const ui = fromUi();
    const { inputs } = await ops.check({}, desired({ importId: ui.integration_id }));
    const { id, outs } = await ops.create(inputs);
    emulator.requests.length = 0;
    const control = watched();
    await ops.delete(id, outs, control);
    await ops.delete(id, outs);
    expect(emulator.requests).toEqual([]);
    expect(control.warnings).toEqual([
      `Integration ${id} was kept, not deleted: a resource created in this deployment took it over with importId ` +
        "(a renamed resource, or `pulumi up --replace` of one that adopted it). To have --replace create a new " +
        "integration, remove importId from the program first",
    ]);
  });

  it("a create whose importId this deployment has just deleted creates a new integration, saying so", async () => {
    const ops = deployment();
    const ui = fromUi();
    const olds = { ...desired(), integrationId: ui.integration_id, userId: ui.user_id, importId: ui.integration_id };
    await ops.delete(ui.integration_id, olds); // the delete of a delete-before-replace
    emulator.requests.length = 0;
    const control = watched();
    const { id, outs } = await ops.create({ ...desired(), importId: ui.integration_id }, control);
    expect(calls()).toEqual(["POST 201"]);
    expect(id).not.toBe(ui.integration_id);
    expect(outs).not.toHaveProperty("importId");
    expect(control.warnings).toEqual([
      `importId ${ui.integration_id} names the integration this deployment has just deleted to replace this resource, ` +
        "so a new integration is created. importId only matters for a resource's first create: remove it from the program",
    ]);
    // Without a way to warn (the dynamic runtime outside the engine) it creates all the same.
    expect((await ops.create({ ...desired({ label: "Again" }), importId: ui.integration_id })).id).not.toBe(id);
  });

  it("an importId gone after a delete in its place is taken for a replacement: created, saying so; elsewhere it fails", async () => {
    const ops = deployment();
    const { id, outs } = await created(ops, { onBehalfOf: "sub-d" });
    await ops.delete(id, outs); // the replacement's delete, of an integration importId never named
    const gone = "0b1f3c5e-0000-4000-8000-0000000000bb";
    // Another place: nothing deleted there, so the absence fails as any adoption's.
    const elsewhere = await rejectionOf(ops.create({ ...desired(), importId: gone }));
    expect(elsewhere.message).toBe(
      `Unable to create SendGrid Segment integration from importId ${gone}: HTTP 404 Not Found: no integration ${gone} in the account; nothing was created. To create a new one, remove importId from the program`,
    );
    emulator.requests.length = 0;
    const control = watched();
    const made = await ops.create({ ...desired({ onBehalfOf: "sub-d" }), importId: gone }, control);
    expect(calls()).toEqual(["GET 200", "POST 201"]);
    expect(made.outs).not.toHaveProperty("importId");
    expect(control.warnings).toEqual([
      `importId ${gone} names no integration any more, and this deployment has just deleted one in subuser "sub-d" to ` +
        "replace a resource: taken for this resource's replacement, a new integration is created. importId only " +
        "matters for a resource's first create: remove it from the program",
    ]);
    await ops.create({ ...desired({ onBehalfOf: "sub-d", label: "Again" }), importId: gone }); // no warn: all the same
    expect(emulator.integrations("sub-d")).toHaveLength(2);
  });

  it("a create without importId warns nothing", async () => {
    const control = watched();
    await deployment().create(desired(), control);
    expect(control.warnings).toEqual([]);
  });

  it("a refresh that finds it gone lets it go: a later adoption says it does not exist, not that it is held", async () => {
    const ops = deployment();
    const { id, outs } = await created(ops);
    emulator.remove(id);
    expect((await ops.read(id, outs)).id).toBe("");
    const error = await rejectionOf(ops.create({ ...desired(), importId: id }));
    expect(error.message).toBe(
      `Unable to create SendGrid Segment integration from importId ${id}: HTTP 404 Not Found: no integration ${id} in the account; nothing was created. To create a new one, remove importId from the program`,
    );
  });
});

describe("check: importId only for a resource's first create", () => {
  const news = () => desired({ importId: "5a1234" });
  const state = () => ({ ...desired(), integrationId: "5a1234", importId: "5a1234" });

  it("dropped once the resource has state; kept for a first create ({} olds, or only the serialized provider)", async () => {
    const ops = deployment();
    expect((await ops.check({}, news())).inputs.importId).toBe("5a1234");
    expect((await ops.check({ __provider: "x" }, news())).inputs.importId).toBe("5a1234");
    expect((await ops.check(state(), news())).inputs).not.toHaveProperty("importId");
  });

  it("without URNs (the dynamic provider): a re-check without olds after state declared it is the replacement's", async () => {
    const ops = deployment();
    await ops.check(state(), news());
    expect((await ops.check({}, news())).inputs).not.toHaveProperty("importId");
  });

  it("a diff of state that declares it counts as the declaration", async () => {
    const ops = deployment();
    await ops.diff("5a1234", state(), news());
    expect((await ops.check({}, news())).inputs).not.toHaveProperty("importId");
    const plugin = deployment();
    await plugin.diff("5a1234", state(), news(), [], "urn:a");
    expect((await plugin.check({}, news(), "urn:a")).inputs).not.toHaveProperty("importId");
    expect((await plugin.check({}, news(), "urn:b")).inputs.importId).toBe("5a1234");
  });

  it("with URNs (the plugin): the same resource's re-check drops it; another resource keeps it (and its create conflicts)", async () => {
    const ops = deployment();
    await ops.check(state(), news(), "urn:a");
    expect((await ops.check({}, news(), "urn:a")).inputs).not.toHaveProperty("importId");
    const other = await ops.check({}, news(), "urn:b");
    expect(other.inputs.importId).toBe("5a1234");
    await ops.diff("5a1234", state(), news(), [], "urn:a");
    expect((await rejectionOf(ops.create(other.inputs))).code).toBe("ERR_SENDGRID_CONFLICT");
  });

  it("the first resource whose state declares it holds it: a later diff of another does not take it over", async () => {
    const ops = deployment();
    await ops.diff("5a1234", state(), news(), [], "urn:a");
    await ops.diff("5a1234", state(), news(), [], "urn:b");
    expect((await ops.check({}, news(), "urn:a")).inputs).not.toHaveProperty("importId");
  });

  it("a declaration or a re-check without a URN cannot be told apart: taken for the replacement", async () => {
    const ops = deployment();
    await ops.check(state(), news()); // declared without a URN
    expect((await ops.check({}, news(), "urn:b")).inputs).not.toHaveProperty("importId");
    const plugin = deployment();
    await plugin.check(state(), news(), "urn:a");
    expect((await plugin.check({}, news())).inputs).not.toHaveProperty("importId");
  });
});

describe("adoption (importId) when the integration is not listed", () => {
  it("fails, creating nothing, when a listed entry without an id may be it", async () => {
    const ops = deployment();
    emulator.seed({
      integration_id: undefined,
      label: "No id",
      destination: "Segment",
      filters: { email_events: ["open"] },
      properties: { write_key: "wk_no_id_1", destination_region: "US" },
    } as never);
    const error = await rejectionOf(ops.create({ ...desired(), importId: "5a1234" }));
    expect(error.message).toBe(
      "Unable to create SendGrid Segment integration from importId 5a1234: HTTP 404 Not Found: integration 5a1234 is not " +
        "listed in the account, and the listing cannot prove it does not exist (1 listed integration carries no id, so " +
        "any of them may be it); nothing was created",
    );
    expect(calls()).toEqual(["GET 200"]);
  });

  it("fails so even after a delete in its place (the absence is not proven)", async () => {
    const ops = deployment();
    const { id, outs } = await created(ops);
    await ops.delete(id, outs);
    emulator.seed({
      integration_id: undefined,
      label: "No id",
      destination: "Segment",
      filters: { email_events: ["open"] },
      properties: { write_key: "wk_no_id_1", destination_region: "US" },
    } as never);
    expect((await rejectionOf(ops.create({ ...desired(), importId: "5a1234" }))).message).toMatch(
      /listing cannot prove it does not exist \(1 listed integration carries no id/,
    );
    expect(emulator.integrations()).toHaveLength(1);
  });

  it("a stopped deployment's adoption sends nothing", async () => {
    const ui = fromUi();
    const cancel = new AbortController();
    cancel.abort(new Error("stopped"));
    await rejectionOf(deployment().create({ ...desired(), importId: ui.integration_id }, { signal: cancel.signal }));
    expect(emulator.requests).toEqual([]);
  });
});

describe("write keys are redacted from a shared listing's errors, whoever made them known", () => {
  // The emulator's echo fault answers a list with the place's first integration's write key, as a
  // careless proxy might: here another resource's (WRITE_KEY_2), listed first.
  const other = () =>
    emulator.seed({
      label: "Other resource",
      destination: "Segment",
      filters: { email_events: ["open"] },
      properties: { write_key: WRITE_KEY_2, destination_region: "US" },
    });
  const otherInputs = () =>
    desired({ label: "Other resource", properties: { writeKey: WRITE_KEY_2, destinationRegion: "US" } });
  const redacted = (error: Error) => {
    expectNoSecretPart(error.message);
    expect(error.message).toContain("write_key=[redacted]");
  };

  it("a key only checked (another resource's inputs) is redacted from a read's listing", async () => {
    other();
    const ops = deployment();
    const { id, outs } = await created(ops);
    await ops.check({}, otherInputs());
    emulator.inject({ kind: "echo", method: "GET" });
    redacted(await rejectionOf(ops.read(id, outs)));
  });

  it("a key only in the state being read (a refresh checks nothing) is redacted", async () => {
    const b = other();
    const ops = deployment();
    emulator.inject({ kind: "echo", method: "GET" });
    redacted(await rejectionOf(ops.read(b.integration_id, { ...otherInputs(), integrationId: b.integration_id })));
  });

  it("a key only checked is redacted from the listing that settles a create without an answer", async () => {
    other();
    const ops = deployment();
    await ops.check({}, otherInputs());
    emulator.inject({ kind: "commit-drop", method: "POST" }, { kind: "echo", method: "GET" });
    const error = await rejectionOf(ops.create(desired()));
    expect(error.code).toBe("ERR_SENDGRID_AMBIGUOUS_CREATE");
    redacted(error);
  });

  it("a key checked while a shared listing was under way is redacted from the update that shares it", async () => {
    other();
    const ops = deployment();
    const { id, outs } = await created(ops);
    emulator.inject({ kind: "echo", method: "GET" });
    const reading = rejectionOf(ops.read(id, outs)); // lists the place, before the other key is known
    await new Promise((resolve) => setImmediate(resolve));
    await ops.check({}, otherInputs());
    // The update keeps its label: it shares the read's listing (one GET), and its failure.
    const updating = rejectionOf(ops.update(id, outs, desired({ filters: { emailEvents: ["bounce"] } })));
    const [readError, updateError] = await Promise.all([reading, updating]);
    expect(emulator.requests.map((r) => r.method)).toEqual(["GET"]);
    redacted(readError);
    redacted(updateError);
  });

  it("the adopting resource's own key is redacted from the adoption's listing", async () => {
    const ui = fromUi("", WRITE_KEY); // listed first, with the key the program declares
    emulator.inject({ kind: "echo", method: "GET" });
    redacted(await rejectionOf(deployment().create({ ...desired(), importId: ui.integration_id })));
  });
});

describe("places in messages, and what a listing proves (places.ts)", () => {
  it("names the account, the subuser, both, or neither", () => {
    expect(describePlace({})).toBe("the account");
    expect(describePlace({ onBehalfOf: "sub-a" })).toBe('subuser "sub-a"');
    expect(describePlace({ account: "eu" })).toBe('account "eu"');
    expect(describePlace({ account: "eu", onBehalfOf: "sub-a" })).toBe('account "eu", subuser "sub-a"');
  });

  it("a listing whose entries all belong to other users names each of them, and the owner", () => {
    const entry = (id: string, user: string) => ({ integration_id: id, user_id: user }) as never;
    const listing: Listing = {
      integrations: [entry("i1", "111"), entry("i2", "222"), entry("i3", "111")],
      unidentified: 0,
    };
    expect(notProof(listing, { userId: "999", sameKey: true })).toBe(
      "the integrations listed belong to SendGrid user 111, 222, not to user 999 that owns it: the API key may be another account's",
    );
    expect(notProof(listing, { userId: "222", sameKey: false })).toBeUndefined();
  });
});

describe("the listings of one deployment (places.ts Listings)", () => {
  const listing = (n: number): Listing => ({ integrations: [], unidentified: n });
  /** A client whose lists answer when the test says. */
  function fakeClient() {
    const pending: Array<{ resolve: (l: Listing) => void; reject: (e: Error) => void; onBehalfOf?: string }> = [];
    const client = {
      list: (scope: { onBehalfOf?: string }) =>
        new Promise<Listing>((resolve, reject) => pending.push({ resolve, reject, onBehalfOf: scope.onBehalfOf })),
    };
    return { client: client as never, pending };
  }

  it("one list per place serves every later read of it, until the deployment writes there", async () => {
    const { client, pending } = fakeClient();
    const listings = new Listings();
    const first = listings.get(client, { onBehalfOf: "a" });
    const second = listings.get(client, { onBehalfOf: "a" });
    const elsewhere = listings.get(client, { onBehalfOf: "b" });
    expect(pending.map((p) => p.onBehalfOf)).toEqual(["a", "b"]);
    pending[0]!.resolve(listing(1));
    pending[1]!.resolve(listing(2));
    expect(await second).toBe(await first);
    expect(await elsewhere).toEqual(listing(2));
    listings.changed({ onBehalfOf: "a" });
    const again = listings.get(client, { onBehalfOf: "a" });
    expect(pending).toHaveLength(3);
    pending[2]!.resolve(listing(3));
    expect(await again).toEqual(listing(3));
    expect(await listings.get(client, { onBehalfOf: "b" })).toEqual(listing(2));
  });

  it("a failed list is not kept, but does not drop a newer one that replaced it", async () => {
    const { client, pending } = fakeClient();
    const listings = new Listings();
    const failing = listings.get(client, {});
    const newer = listings.fresh(client, {});
    pending[1]!.resolve(listing(1));
    await newer;
    pending[0]!.reject(new Error("boom"));
    await expect(failing).rejects.toThrow("boom");
    expect(await listings.get(client, {})).toEqual(listing(1));
    expect(pending).toHaveLength(2);
    const failed = listings.fresh(client, {});
    pending[2]!.reject(new Error("again"));
    await expect(failed).rejects.toThrow("again");
    const next = listings.get(client, {});
    expect(pending).toHaveLength(4);
    pending[3]!.resolve(listing(2));
    expect(await next).toEqual(listing(2));
  });
});
