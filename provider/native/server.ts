/**
 * The native provider plugin `sendgrid-segment`: Pulumi's ResourceProvider gRPC service, written
 * by hand (modelled on `@pulumi/pulumi/cmd/dynamic-provider`, with the proto stubs that ship in
 * `@pulumi/pulumi`) because the SDK's own provider server answers Configure without reading it,
 * drops per-property diffs and cannot answer an import's id-only Read. It only translates the
 * protocol to the shared operations (`../operations.ts`): no SendGrid behaviour lives here.
 *
 * It imports no `@pulumi/pulumi` runtime, only the generated stubs, so it bundles into one file
 * for the self-contained executable (`scripts/build-plugin.mjs`).
 */
import * as grpc from "@grpc/grpc-js";
import * as plugproto from "@pulumi/pulumi/proto/plugin_pb";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import { readAccounts, resolveSettings, type StackConfig, settingNames } from "../config";
import { listIntegrations } from "../list";
import { IntegrationOperations, type Props } from "../operations";
import { PACKAGE_VERSION } from "../package";
import { type CheckFailure, UNKNOWN } from "../schema";
import { isRecord } from "../types";
import { LIST_TOKEN, PACKAGE, packageSchema, RESOURCE_TOKEN } from "./schema";
import { conceal, reveal } from "./secrets";

/** The provider's settings (`apiKey`, ...: config.ts's list) and `accounts`; `version` and `pluginDownloadURL` are the engine's. */
const SETTING_KEYS = Object.keys(settingNames(undefined, PACKAGE));
const CONFIG_KEYS = new Set([...SETTING_KEYS, "accounts", "version", "pluginDownloadURL"]);
/** The settings that hold keys. */
const SECRET_SETTINGS = ["apiKey", "accounts"];

type Callback<T> = (error: Partial<grpc.ServiceError> | null, value?: T) => void;
type Call<Req> = { request: Req };

const struct = (value: Record<string, unknown>) => structproto.Struct.fromJavaScript(value as never);
const plain = (value: structproto.Struct | undefined): Props => (value ? (value.toJavaScript() as Props) : {});

/**
 * The provider's configuration as the core reads it (`sendgrid-segment:<key>` → text), from
 * Configure's `args` (an explicit provider's inputs, or the stack's `sendgrid-segment:*` config for
 * the default one), secrets unwrapped. A structured `accounts` is passed as JSON text, as the
 * dynamic provider receives it.
 */
export function configFrom(args: Props): StackConfig {
  const { plain: settings } = reveal(args);
  return (key) => {
    // equivalent StringLiteral: a key without ":" has another namespace, so the name is never read
    const [namespace, name = ""] = key.split(":");
    const value = namespace === PACKAGE ? settings[name] : undefined;
    // killed by hand ConditionalExpression: applied by hand, 16 tests of native.test.ts fail (Stryker reports it surviving)
    if (value === undefined || value === null || value === UNKNOWN) return undefined;
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  };
}

/**
 * CheckConfig's failures: each bad setting on its own (validated alone, without the environment,
 * so a failure names the setting the user wrote), and every key that is not a setting.
 */
export function checkConfig(news: Props): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const { plain: args } = reveal(news);
  for (const key of Object.keys(args)) {
    if (!CONFIG_KEYS.has(key)) failures.push({ property: key, reason: `is not a setting of the ${PACKAGE} provider` });
  }
  const all = configFrom(args);
  const only =
    (key: string): StackConfig =>
    (k) =>
      k === `${PACKAGE}:${key}` ? all(k) : undefined;
  for (const key of SETTING_KEYS) {
    try {
      resolveSettings(only(key), {}, undefined, {}, PACKAGE);
    } catch (error) {
      failures.push({ property: key, reason: (error as Error).message });
    }
  }
  try {
    for (const account of Object.keys(readAccounts(only("accounts"), PACKAGE))) {
      resolveSettings(only("accounts"), {}, account, {}, PACKAGE);
    }
  } catch (error) {
    failures.push({ property: "accounts", reason: (error as Error).message });
  }
  return failures;
}

/** The SendGrid region a (revealed) provider configuration names, or undefined when it names none. */
function regionOf(settings: Props): string | undefined {
  const value = settings.region;
  // known gap ConditionalExpression: an old region still unknown at preview is not tested
  if (typeof value !== "string" || value === UNKNOWN) return undefined;
  return value.toLowerCase();
}

/**
 * DiffConfig: which settings changed. A provider whose region changes manages integrations of
 * another SendGrid account realm, so its resources are replaced; only when the old configuration
 * named a region (a dynamic provider's, or one that relied on the default, is never replaced:
 * moving a stack to this plugin must not touch SendGrid).
 */
export function diffConfig(olds: Props, news: Props): { diffs: string[]; replaces: string[] } {
  const a = reveal(olds).plain;
  const b = reveal(news).plain;
  const diffs = [...SETTING_KEYS, "accounts"].filter(
    (key) => JSON.stringify(a[key] ?? null) !== JSON.stringify(b[key] ?? null),
  );
  const before = regionOf(a);
  // A region still unknown at preview is a change, not (yet) a replacement.
  const unknown = b.region === UNKNOWN;
  const replaces = before !== undefined && !unknown && before !== (regionOf(b) ?? "global") ? ["region"] : [];
  return { diffs, replaces };
}

const { Kind } = provproto.PropertyDiff;

/** The kind of one changed path: added, deleted or updated, replacing or not. */
function kindOf(olds: Props, news: Props, path: string, replaces: boolean): provproto.PropertyDiff.Kind {
  const present = (props: Props) => path.split(".").reduce<any>((v, k) => (isRecord(v) ? v[k] : undefined), props);
  if (present(olds) === undefined) return replaces ? Kind.ADD_REPLACE : Kind.ADD;
  if (present(news) === undefined) return replaces ? Kind.DELETE_REPLACE : Kind.DELETE;
  return replaces ? Kind.UPDATE_REPLACE : Kind.UPDATE;
}

/**
 * gRPC's error for a failed operation: the message only (it is already free of secrets); grpc-js
 * answers an error without a code as UNKNOWN, which is what the engine expects of a failed step.
 */
const failed = (error: unknown): Partial<grpc.ServiceError> => {
  const message = (error as Error).message;
  // equivalent ObjectLiteral: grpc-js sends an Error's message when it has no details
  return Object.assign(new Error(message), { details: message });
};

/** Answers `handler`'s promise on the callback, and any error as a gRPC error. */
function answer<Req, Res>(handler: (request: Req) => Promise<Res> | Res) {
  return (call: Call<Req>, callback: Callback<Res>) => {
    Promise.resolve()
      .then(() => handler(call.request))
      .then(
        (value) => callback(null, value),
        (error) => callback(failed(error)),
      );
  };
}

/** The service's handlers. One instance per plugin process; `Configure` starts a fresh deployment. */
export class SendGridSegmentProvider {
  private operations = new IntegrationOperations(() => undefined, PACKAGE);
  private config: StackConfig = () => undefined;

  readonly handlers = {
    getPluginInfo: answer<emptyproto.Empty, plugproto.PluginInfo>(() =>
      new plugproto.PluginInfo().setVersion(PACKAGE_VERSION),
    ),
    // known gap BlockStatement: GetSchema is driven by plugin-executable.test.ts, outside the in-process mutation set
    getSchema: answer<provproto.GetSchemaRequest, provproto.GetSchemaResponse>(() => {
      const schema = JSON.stringify(packageSchema(PACKAGE_VERSION));
      return new provproto.GetSchemaResponse().setSchema(schema);
    }),
    checkConfig: answer<provproto.CheckRequest, provproto.CheckResponse>((req) => {
      const news = plain(req.getNews());
      // The engine keeps a provider's checked inputs in state: the key and the accounts (with
      // theirs) go there as secrets even when set without --secret.
      return new provproto.CheckResponse()
        .setInputs(struct(conceal(news, SECRET_SETTINGS)))
        .setFailuresList(checkConfig(news).map(toFailure));
    }),
    diffConfig: answer<provproto.DiffRequest, provproto.DiffResponse>((req) => {
      const { diffs, replaces } = diffConfig(plain(req.getOldInputs() ?? req.getOlds()), plain(req.getNews()));
      return new provproto.DiffResponse()
        .setChanges(
          diffs.length > 0
            ? provproto.DiffResponse.DiffChanges.DIFF_SOME
            : provproto.DiffResponse.DiffChanges.DIFF_NONE,
        )
        .setDiffsList(diffs)
        .setReplacesList(replaces);
    }),
    configure: answer<provproto.ConfigureRequest, provproto.ConfigureResponse>((req) => {
      const args = req.getArgs();
      const fromVariables: Props = {};
      // Older engines send only `variables` (`sendgrid-segment:config:apiKey` or `sendgrid-segment:apiKey`).
      for (const [key, value] of req.getVariablesMap().entries()) {
        fromVariables[String(key).split(":").at(-1) as string] = value;
      }
      this.config = configFrom(args ? plain(args) : fromVariables);
      this.operations = new IntegrationOperations(this.config, PACKAGE);
      return new provproto.ConfigureResponse()
        .setAcceptsecrets(true)
        .setSupportspreview(false)
        .setAcceptresources(false)
        .setAcceptoutputs(false);
    }),
    check: answer<provproto.CheckRequest, provproto.CheckResponse>(async (req) => {
      this.assertType(req.getUrn());
      const news = reveal(plain(req.getNews()));
      const result = await this.operations.check(reveal(plain(req.getOlds())).plain, news.plain);
      return new provproto.CheckResponse()
        .setInputs(struct(conceal(result.inputs, news.secrets)))
        .setFailuresList(result.failures.map(toFailure));
    }),
    diff: answer<provproto.DiffRequest, provproto.DiffResponse>(async (req) => {
      this.assertType(req.getUrn());
      const olds = reveal(plain(req.getOlds())).plain;
      const news = reveal(plain(req.getNews())).plain;
      const diff = await this.operations.diff(req.getId(), olds, news);
      const res = new provproto.DiffResponse()
        .setChanges(
          diff.changes ? provproto.DiffResponse.DiffChanges.DIFF_SOME : provproto.DiffResponse.DiffChanges.DIFF_NONE,
        )
        .setReplacesList(diff.replaces)
        .setDiffsList([...new Set(diff.changed.map((path) => path.split(".")[0] as string))])
        .setDeletebeforereplace(diff.deleteBeforeReplace)
        .setHasdetaileddiff(true);
      // What never changes without a replacement: the integration's ids.
      if (diff.replaces.length === 0) res.setStablesList(["integrationId", "userId"]);
      const detailed = res.getDetaileddiffMap();
      for (const path of diff.changed) {
        const replaces = diff.replaces.includes(path);
        detailed.set(path, new provproto.PropertyDiff().setKind(kindOf(olds, news, path, replaces)).setInputdiff(true));
      }
      return res;
    }),
    create: answer<provproto.CreateRequest, provproto.CreateResponse>(async (req) => {
      this.assertType(req.getUrn());
      const inputs = reveal(plain(req.getProperties()));
      const { id, outs } = await this.operations.create(inputs.plain);
      // What arrived secret leaves secret, beside the model's secret fields.
      return new provproto.CreateResponse().setId(id).setProperties(struct(conceal({ ...outs }, inputs.secrets)));
    }),
    read: answer<provproto.ReadRequest, provproto.ReadResponse>(async (req) => {
      this.assertType(req.getUrn());
      const state = reveal(plain(req.getProperties()));
      const known = reveal(plain(req.getInputs()));
      const result = await this.operations.read(req.getId(), state.plain);
      const res = new provproto.ReadResponse().setId(result.id);
      // equivalent ConditionalExpression: a gone read has empty props and no inputs, so going on answers the same
      if (!result.id) return res; // gone
      res.setProperties(struct(conceal({ ...result.props }, state.secrets)));
      // The live inputs when they differ from state (always for an import: \`pulumi import\` and \`.get()\`
      // send only an id, and no live integration matches empty state), else the inputs as they were.
      const inputs = result.inputs ?? (req.getInputs() ? known.plain : undefined);
      if (inputs) res.setInputs(struct(conceal(inputs, [...known.secrets, ...state.secrets])));
      return res;
    }),
    update: answer<provproto.UpdateRequest, provproto.UpdateResponse>(async (req) => {
      this.assertType(req.getUrn());
      const olds = reveal(plain(req.getOlds()));
      const news = reveal(plain(req.getNews()));
      const { outs } = await this.operations.update(req.getId(), olds.plain, news.plain);
      const secrets = [...olds.secrets, ...news.secrets];
      return new provproto.UpdateResponse().setProperties(struct(conceal({ ...outs }, secrets)));
    }),
    delete: answer<provproto.DeleteRequest, emptyproto.Empty>(async (req) => {
      this.assertType(req.getUrn());
      await this.operations.delete(req.getId(), reveal(plain(req.getProperties())).plain);
      return new emptyproto.Empty();
    }),
    invoke: answer<provproto.InvokeRequest, provproto.InvokeResponse>(async (req) => {
      if (req.getTok() !== LIST_TOKEN)
        throw new Error(`Unknown function ${req.getTok()}: this provider has ${LIST_TOKEN}`);
      const args = reveal(plain(req.getArgs())).plain;
      const bad = Object.keys(args).filter((key) => key !== "onBehalfOf" && key !== "account");
      if (bad.length > 0) {
        return new provproto.InvokeResponse().setFailuresList(
          bad.map((property) => toFailure({ property, reason: `is not an argument of ${LIST_TOKEN}` })),
        );
      }
      const text = (key: string) =>
        typeof args[key] === "string" && args[key] !== "" ? (args[key] as string) : undefined;
      const settings = resolveSettings(this.config, process.env, text("account"), {}, PACKAGE);
      const integrations = await listIntegrations(settings, text("onBehalfOf"));
      return new provproto.InvokeResponse().setReturn(struct({ integrations }));
    }),
    // Nothing runs long enough to cancel. Handshake, Parameterize, Construct, Call, Attach,
    // GetMapping(s) and List are left out: grpc-js answers them UNIMPLEMENTED, which the engine
    // reads as "not supported".
    // killed by hand ArrowFunction: applied by hand, native.test.ts's cancel test fails (Stryker reports it surviving)
    cancel: answer<emptyproto.Empty, emptyproto.Empty>(() => new emptyproto.Empty()),
  };

  /** Refuses a resource type this provider does not have (a URN's type is after its third `::`). */
  private assertType(urn: string): void {
    // known gap StringLiteral: the engine never sends a URN without a type part
    const type = urn.split("::")[2] ?? "";
    if (type.split("$").at(-1) !== RESOURCE_TOKEN) {
      throw new Error(`Unknown resource type ${JSON.stringify(type)}: this provider has ${RESOURCE_TOKEN}`);
    }
  }
}

const toFailure = (f: CheckFailure) => new provproto.CheckFailure().setProperty(f.property).setReason(f.reason);

export interface Served {
  port: number;
  server: grpc.Server;
  stop(): Promise<void>;
}

/** Starts the service on a free loopback port. */
export async function serve(): Promise<Served> {
  const server = new grpc.Server(); // one integration per message: far below grpc-js's 4 MB limit
  server.addService(provrpc.ResourceProviderService, new SendGridSegmentProvider().handlers as never);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    port,
    server,
    // Stryker disable next-line ArrowFunction: a server left running is not observable from the tests; the plugin test stops whole processes
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

/**
 * The plugin's entry: `pulumi-resource-sendgrid-segment <engine address>`, as the engine runs it.
 * Prints the port on stdout (the engine reads it) and serves until the engine stops it.
 */
export async function main(args: string[]): Promise<Served | undefined> {
  if (args.filter((arg) => !arg.startsWith("-")).length === 0) {
    console.error(`usage: pulumi-resource-${PACKAGE} <engine address> (the Pulumi engine starts this plugin)`);
    process.exitCode = 1;
    return undefined;
  }
  const served = await serve();
  (await import("node:fs")).writeSync(1, `${served.port}\n`); // a file write: process.stdout fails on a pipe under Wine
  return served;
}
