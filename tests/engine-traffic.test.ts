// Issue 22: the plugin answers requests shaped exactly as the engine's recorded traffic shows them.
// PULUMI_DEBUG_GRPC writes each call as protobuf JSON ({method, request, response}); public
// providers keep such captures from real `pulumi up`/`preview` runs in their replay tests. The
// requests below are ours (our resource type and settings) in the shapes of those captures, field
// for field (docs/engine-paths.md lists them, with where each was recorded):
//  - Configure at preview from a TypeScript SDK's explicit provider: `variables` and `args`, object
//    config as JSON text, `version` in args only, `id` the unknown sentinel, the four flags, urn,
//    name, type (pulumi/pulumi-terraform-bridge pkg/pf/tests/testdata/terraform-config-logs.json);
//  - CheckConfig of a new provider: `olds` {}, every value text, secrets plain
//    (pulumi/pulumi-go-provider tests/grpc/config_test.go, recorded with PULUMI_DEBUG_GRPC);
//  - DiffConfig with `oldInputs` and `ignoreChanges` (pulumi-terraform-bridge pkg/tfbridge/provider_test.go);
//  - a first create's Check: `olds` {} and a base64 `randomSeed` (pulumi-go-provider tests/grpc/asset_test.go);
//  - Create at preview with an unknown input (pulumi-terraform-bridge pkg/tests/regress_hcloud_175_test.go);
//  - Update at preview (pulumi-terraform-bridge pkg/tfbridge/provider_test.go);
//  - Read for an import: id, urn, name, type, timeout, and no properties or inputs
//    (pulumi/pulumi pkg/resource/deploy/step.go ImportStep.Apply at 1b59498).
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator";
import { type Served, serve } from "../provider/native";
import { RESOURCE_TOKEN } from "../provider/native/schema";
import { isSecret, reveal } from "../provider/native/secrets";
import { API_KEY, WRITE_KEY } from "./support/fixtures";
import { REPO } from "./support/programs";

const req = createRequire(join(REPO, "package.json"));
const grpc = req("@grpc/grpc-js");
const provproto = req("@pulumi/pulumi/proto/provider_pb");
const provrpc = req("@pulumi/pulumi/proto/provider_grpc_pb");
const structproto = req("google-protobuf/google/protobuf/struct_pb");

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const PROVIDER_URN = "urn:pulumi:dev::sendgrid-integrations::pulumi:providers:sendgrid-segment::eu";
const urn = (name: string) => `urn:pulumi:dev::sendgrid-integrations::${RESOURCE_TOKEN}::${name}`;

let emulator: Emulator;
let served: Served;
let client: any;

type Json = Record<string, any>;

/** A request message from its protobuf JSON, as PULUMI_DEBUG_GRPC logs it (the fields these calls use). */
function fromJson(Type: any, json: Json): any {
  const message = new Type();
  const setters: Record<string, (value: any) => void> = {
    urn: (v) => message.setUrn(v),
    name: (v) => message.setName(v),
    type: (v) => message.setType(v),
    id: (v) => message.setId(v),
    olds: (v) => message.setOlds(structproto.Struct.fromJavaScript(v)),
    news: (v) => message.setNews(structproto.Struct.fromJavaScript(v)),
    oldInputs: (v) => message.setOldInputs(structproto.Struct.fromJavaScript(v)),
    properties: (v) => message.setProperties(structproto.Struct.fromJavaScript(v)),
    inputs: (v) => message.setInputs(structproto.Struct.fromJavaScript(v)),
    args: (v) => message.setArgs(structproto.Struct.fromJavaScript(v)),
    variables: (v) => {
      for (const [k, value] of Object.entries(v)) message.getVariablesMap().set(k, value);
    },
    randomSeed: (v) => message.setRandomseed(Buffer.from(v, "base64")),
    preview: (v) => message.setPreview(v),
    timeout: (v) => message.setTimeout(v),
    ignoreChanges: (v) => message.setIgnorechangesList(v),
    acceptSecrets: (v) => message.setAcceptsecrets(v),
    acceptResources: (v) => message.setAcceptresources(v),
    sendsOldInputs: (v) => message.setSendsOldInputs(v),
    sendsOldInputsToDelete: (v) => message.setSendsOldInputsToDelete(v),
  };
  for (const [key, value] of Object.entries(json)) {
    const set = setters[key];
    if (!set) throw new Error(`no setter for ${key}`);
    set(value);
  }
  return message;
}

const call = (method: string, request: any): Promise<any> =>
  new Promise((resolve, reject) => client[method](request, (e: Error | null, r: any) => (e ? reject(e) : resolve(r))));

beforeAll(async () => {
  emulator = await startEmulator({ apiKeys: [API_KEY] });
  served = await serve();
  client = new provrpc.ResourceProviderClient(`127.0.0.1:${served.port}`, grpc.credentials.createInsecure());
});
afterAll(async () => {
  client?.close();
  await served?.stop();
  await emulator?.close();
});

describe("requests in the engine's recorded shapes", () => {
  it("CheckConfig of a new explicit provider: olds {}, every value text, the key plain; it comes back secret", async () => {
    const res = await call(
      "checkConfig",
      fromJson(provproto.CheckRequest, {
        urn: PROVIDER_URN,
        name: "eu",
        type: "pulumi:providers:sendgrid-segment",
        olds: {},
        news: {
          apiKey: API_KEY,
          apiBaseUrl: emulator.url,
          requestTimeoutMs: "2000",
          accounts: JSON.stringify({ brand: { apiKey: API_KEY, region: "eu" } }),
          version: "0.4.0",
        },
      }),
    );
    expect(res.getFailuresList()).toEqual([]);
    const inputs = res.getInputs().toJavaScript();
    expect(isSecret(inputs.apiKey)).toBe(true);
    expect(isSecret(inputs.accounts)).toBe(true);
  });

  it("DiffConfig with oldInputs, olds and ignoreChanges", async () => {
    const res = await call(
      "diffConfig",
      fromJson(provproto.DiffRequest, {
        urn: PROVIDER_URN,
        name: "eu",
        type: "pulumi:providers:sendgrid-segment",
        olds: { version: "0.4.0" },
        oldInputs: { version: "0.4.0" },
        news: { apiKey: API_KEY, version: "0.4.0" },
        ignoreChanges: ["apiKey"],
      }),
    );
    expect(res.getReplacesList()).toEqual([]);
  });

  it("Configure at preview: variables and args (object config as JSON text), the unknown id, the four flags", async () => {
    const accounts = JSON.stringify({ brand: { apiKey: API_KEY, apiBaseUrl: emulator.url } });
    const res = await call(
      "configure",
      fromJson(provproto.ConfigureRequest, {
        variables: {
          "sendgrid-segment:config:apiBaseUrl": emulator.url,
          "sendgrid-segment:config:accounts": accounts,
        },
        args: {
          apiKey: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: API_KEY },
          apiBaseUrl: emulator.url,
          accounts,
          version: "0.4.0",
        },
        acceptSecrets: true,
        acceptResources: true,
        sendsOldInputs: true,
        sendsOldInputsToDelete: true,
        id: UNKNOWN,
        urn: PROVIDER_URN,
        name: "eu",
        type: "pulumi:providers:sendgrid-segment",
      }),
    );
    expect({
      acceptSecrets: res.getAcceptsecrets(),
      supportsPreview: res.getSupportspreview(),
      acceptResources: res.getAcceptresources(),
    }).toEqual({ acceptSecrets: true, supportsPreview: true, acceptResources: false });
  });

  it("a first create's Check (olds {}, randomSeed), then Create at preview with an unknown input: nothing sent", async () => {
    const news = {
      label: "Recorded",
      filters: { emailEvents: ["open", UNKNOWN] },
      properties: { writeKey: WRITE_KEY, destinationRegion: "US" },
      account: "brand",
    };
    const checked = await call(
      "check",
      fromJson(provproto.CheckRequest, {
        urn: urn("recorded"),
        name: "recorded",
        type: RESOURCE_TOKEN,
        olds: {},
        news,
        randomSeed: "DX1REXFaeMHkgqCyRyC0As5/kNtfiZT5jQv1AdX4T8Y=",
      }),
    );
    expect(checked.getFailuresList()).toEqual([]);
    emulator.requests.length = 0;
    const created = await call(
      "create",
      fromJson(provproto.CreateRequest, {
        urn: urn("recorded"),
        name: "recorded",
        type: RESOURCE_TOKEN,
        properties: checked.getInputs().toJavaScript(),
        preview: true,
      }),
    );
    expect(created.getId()).toBe("");
    expect(reveal(created.getProperties().toJavaScript()).plain).toMatchObject({
      integrationId: UNKNOWN,
      filters: { emailEvents: ["open", UNKNOWN] },
    });
    expect(emulator.requests).toEqual([]);
  });

  it("Update at preview (id, olds, news, preview), and an import's Read (id, urn, name, type, timeout only)", async () => {
    const ui = emulator.seed({
      label: "From the UI",
      destination: "Segment",
      filters: { email_events: ["open"] },
      properties: { write_key: WRITE_KEY, destination_region: "US" },
    });
    const read = await call(
      "read",
      fromJson(provproto.ReadRequest, {
        id: ui.integration_id,
        urn: urn("imported"),
        name: "imported",
        type: RESOURCE_TOKEN,
        timeout: 0,
      }),
    );
    expect(read.getId()).toBe(ui.integration_id);
    expect(read.getInputs()).toBeDefined();
    const olds = read.getProperties().toJavaScript();
    emulator.requests.length = 0;
    const updated = await call(
      "update",
      fromJson(provproto.UpdateRequest, {
        id: ui.integration_id,
        urn: urn("imported"),
        olds,
        news: { ...read.getInputs().toJavaScript(), label: "NEW" },
        preview: true,
      }),
    );
    expect(reveal(updated.getProperties().toJavaScript()).plain).toMatchObject({
      integrationId: ui.integration_id,
      label: "NEW",
    });
    expect(emulator.requests).toEqual([]);
  });
});
