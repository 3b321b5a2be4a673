/**
 * The native provider plugin `sendgrid-segment`: Pulumi's ResourceProvider gRPC service, written
 * by hand (modelled on `@pulumi/pulumi/cmd/dynamic-provider`, with the proto stubs that ship in
 * `@pulumi/pulumi`) because the SDK's own provider server answers Configure without reading it,
 * drops per-property diffs and cannot answer an import's id-only Read. It only translates the
 * protocol to the shared operations (`../operations.ts`): no SendGrid behaviour lives here.
 *
 * It imports no `@pulumi/pulumi` runtime, only the generated stubs, so it bundles into one file
 * for the self-contained executable (`scripts/build-plugin.mjs`).
 *
 * What the engine sends and expects is read from its source (pulumi/pulumi 1b59498,
 * pkg/resource/plugin/provider_plugin.go; docs/engine-paths.md): Configure's flags decide
 * preview (`supportsPreview`: Create and Update then come with `preview` set, and must not touch
 * SendGrid); Create, Read, Update and Delete carry the custom timeout in seconds; Diff and Update
 * carry the resource's `ignoreChanges`; Cancel comes on Ctrl-C (the engine then waits for
 * operations under way, which stop promptly here) and again at every shutdown; the plugin checks
 * that the engine at its address is still there, and exits when it is gone.
 */
import * as grpc from "@grpc/grpc-js";
import * as engrpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as engproto from "@pulumi/pulumi/proto/engine_pb";
import * as plugproto from "@pulumi/pulumi/proto/plugin_pb";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import { readAccounts, resolveSettings, type StackConfig, settingNames } from "../config";
import { type Control, controlFor, Stopped } from "../control";
import { EngineLink, type EngineModules, HEALTH_INTERVAL_MS, Severity } from "../engine";
import { listIntegrations } from "../list";
import { IntegrationOperations, type Props } from "../operations";
import { PACKAGE_VERSION } from "../package";
import { type CheckFailure, UNKNOWN, withoutUndefined } from "../schema";
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

/** A Struct of a plain object; `undefined` (a field an answer left out) cannot travel and is dropped. */
const struct = (value: Record<string, unknown>) => structproto.Struct.fromJavaScript(withoutUndefined(value) as never);

/** The engine's modules for the link back to it: bundled with the plugin. */
const ENGINE_MODULES: () => EngineModules = () => ({ grpc, engrpc, engproto }) as unknown as EngineModules;

/** Whether a value is, or holds, one not known yet (preview). */
const holdsUnknown = (value: unknown): boolean => String(JSON.stringify(value)).includes(UNKNOWN);
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
    // equivalent ConditionalExpression: an unknown setting arrives as UNKNOWN itself, which configFrom reads as unset, and no unset setting fails
    if (holdsUnknown(args[key])) continue; // at preview: checked when known
    try {
      resolveSettings(only(key), {}, undefined, {}, PACKAGE);
    } catch (error) {
      failures.push({ property: key, reason: (error as Error).message });
    }
  }
  // At preview, `accounts` (or one of its values) may be unknown: what is unknown is checked when known.
  if (!holdsUnknown(args.accounts)) {
    try {
      for (const account of Object.keys(readAccounts(only("accounts"), PACKAGE))) {
        resolveSettings(only("accounts"), {}, account, {}, PACKAGE);
      }
    } catch (error) {
      failures.push({ property: "accounts", reason: (error as Error).message });
    }
  }
  return failures;
}

/**
 * The SendGrid region each account of a (revealed) provider configuration would use: its setting,
 * else the environment's, else global (config.ts), as the provider resolves it; none for an account
 * whose settings are not known yet (preview) or not valid (CheckConfig says why).
 */
function regionsOf(settings: Props): Map<string, string> {
  const config = configFrom(settings);
  const regions = new Map<string, string>();
  // Stryker disable next-line ArrayDeclaration: "Stryker was here" is no valid account name, so resolveSettings throws and it gets no region
  const accounts = holdsUnknown(settings.accounts) ? [] : safeAccounts(config);
  for (const account of [undefined, ...accounts]) {
    // The default account's settings are the top-level ones (a named account's are its own).
    if (account === undefined && (holdsUnknown(settings.region) || holdsUnknown(settings.apiBaseUrl))) continue;
    try {
      regions.set(account ?? "", resolveSettings(config, process.env, account, {}, PACKAGE).region);
    } catch {
      // not valid: no region (CheckConfig says why)
    }
  }
  return regions;
}

function safeAccounts(config: StackConfig): string[] {
  try {
    return Object.keys(readAccounts(config, PACKAGE));
  } catch {
    // Stryker disable next-line ArrayDeclaration: "Stryker was here" is no valid account name, so resolveSettings throws and it gets no region
    return [];
  }
}

/**
 * DiffConfig: which settings changed, and whether the change moves an account to another SendGrid
 * region. Each region is its own API with its own accounts: a provider that now points elsewhere
 * would look for its integrations where they are not. The region compared is the one the provider
 * really uses before and after (the setting, else SENDGRID_REGION, else global, per account), so a
 * region moved between config and the environment is no change, and a move from global to EU is.
 * The engine replaces every resource of a provider whose DiffConfig replaces (a new integration in
 * the new region, the old one deleted by the provider with the old configuration: step_generator.go
 * `providerChanged`).
 *
 * Only a configuration of this provider says where its integrations were: old inputs that name none
 * of its settings (a provider set up from the environment alone, or the dynamic provider a stack is
 * moving from, whose `sendgrid:*` keys the plugin never sees) decide nothing here. Each resource
 * records the region it lives in (`sendgridRegion`), and every operation on it refuses another
 * region with a message that says what to do (operations.ts): nothing is ever stranded silently.
 */
export function diffConfig(olds: Props, news: Props): { diffs: string[]; replaces: string[] } {
  const a = reveal(olds).plain;
  const b = reveal(news).plain;
  const keys = [...SETTING_KEYS, "accounts"];
  const diffs = keys.filter((key) => JSON.stringify(a[key] ?? null) !== JSON.stringify(b[key] ?? null));
  if (!keys.some((key) => a[key] !== undefined && a[key] !== null && a[key] !== "")) return { diffs, replaces: [] };
  const before = regionsOf(a);
  const after = regionsOf(b);
  const replaces = new Set<string>();
  for (const [account, region] of before) {
    const now = after.get(account);
    // An account that is gone, or a region not known yet (preview), is no replacement (yet).
    if (now === undefined || region === now) continue;
    replaces.add(account === "" ? "region" : "accounts");
  }
  return { diffs, replaces: [...replaces] };
}

const { Kind } = provproto.PropertyDiff;

/**
 * The kind of one changed path: added, deleted or updated, replacing or not. A value not known yet
 * (preview: the path, or an object above it, is unknown) is an update, never a delete.
 */
function kindOf(olds: Props, news: Props, path: string, replaces: boolean): provproto.PropertyDiff.Kind {
  const at = (props: Props) =>
    path.split(".").reduce<any>((v, k) => (v === UNKNOWN ? UNKNOWN : isRecord(v) ? v[k] : undefined), props);
  const after = at(news);
  if (at(olds) === undefined && after !== UNKNOWN) return replaces ? Kind.ADD_REPLACE : Kind.ADD;
  if (after === undefined) return replaces ? Kind.DELETE_REPLACE : Kind.DELETE;
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
  /** Aborted by Cancel: every operation under way stops, and none starts after (until a Configure). */
  private cancelled = new AbortController();

  /** @param engine the link back to the engine that started this plugin (its log), when known */
  constructor(private readonly engine?: EngineLink) {}

  /** An operation's control: the deployment's Cancel, its custom timeout, its warnings to the engine's log. */
  private control(what: string, urn: string, timeoutSeconds = 0): Control {
    return controlFor(this.cancelled.signal, timeoutSeconds, what, (message) => {
      void this.engine?.log(Severity.warning, message, urn);
    });
  }

  /** Runs an operation, then waits for its warnings to reach the engine: they show with its step. */
  private async logged<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } finally {
      await this.engine?.flush();
    }
  }

  /** Cancel: stops every operation under way (each says what may have happened), and any after. */
  cancel(why = "Pulumi cancelled the deployment"): void {
    this.cancelled.abort(new Stopped(why)); // once: a signal aborted already keeps its first reason
  }

  readonly handlers = {
    getPluginInfo: answer<emptyproto.Empty, plugproto.PluginInfo>(() =>
      new plugproto.PluginInfo().setVersion(PACKAGE_VERSION),
    ),
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
      this.cancelled = new AbortController(); // a Configure starts a deployment

      // supportsPreview: Create and Update come at preview too, and answer without calling SendGrid
      // (otherwise the engine makes up their outputs, with every output unknown: provider_plugin.go).
      return new provproto.ConfigureResponse()
        .setAcceptsecrets(true)
        .setSupportspreview(true)
        .setAcceptresources(false)
        .setAcceptoutputs(false);
    }),
    check: answer<provproto.CheckRequest, provproto.CheckResponse>(async (req) => {
      this.assertType(req.getUrn());
      const news = reveal(plain(req.getNews()));
      const result = await this.operations.check(reveal(plain(req.getOlds())).plain, news.plain, req.getUrn());
      return new provproto.CheckResponse()
        .setInputs(struct(conceal(result.inputs, news.secrets)))
        .setFailuresList(result.failures.map(toFailure));
    }),
    diff: answer<provproto.DiffRequest, provproto.DiffResponse>(async (req) => {
      this.assertType(req.getUrn());
      const olds = reveal(plain(req.getOlds())).plain;
      const news = reveal(plain(req.getNews())).plain;
      const diff = await this.operations.diff(req.getId(), olds, news, req.getIgnorechangesList(), req.getUrn());
      const res = new provproto.DiffResponse()
        .setChanges(
          diff.changes ? provproto.DiffResponse.DiffChanges.DIFF_SOME : provproto.DiffResponse.DiffChanges.DIFF_NONE,
        )
        .setReplacesList(diff.replaces)
        .setDiffsList([...new Set(diff.changed.map((path) => path.split(".")[0] as string))])
        .setDeletebeforereplace(diff.deleteBeforeReplace)
        .setHasdetaileddiff(true);
      // What never changes without a replacement: the integration's ids and region.
      if (diff.replaces.length === 0) res.setStablesList(["integrationId", "userId", "sendgridRegion"]);
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
      const { id, outs } = req.getPreview()
        ? this.operations.previewCreate(inputs.plain)
        : await this.logged(() =>
            this.operations.create(inputs.plain, this.control("the create", req.getUrn(), req.getTimeout())),
          );
      // What arrived secret leaves secret, beside the model's secret fields.
      return new provproto.CreateResponse().setId(id).setProperties(struct(conceal({ ...outs }, inputs.secrets)));
    }),
    read: answer<provproto.ReadRequest, provproto.ReadResponse>(async (req) => {
      this.assertType(req.getUrn());
      const state = reveal(plain(req.getProperties()));
      const known = reveal(plain(req.getInputs()));
      const control = this.control("the read", req.getUrn(), req.getTimeout());
      const result = await this.logged(() => this.operations.read(req.getId(), state.plain, control));
      const res = new provproto.ReadResponse().setId(result.id);
      // equivalent ConditionalExpression: a gone read has empty props and no inputs, so going on answers the same
      if (!result.id) return res; // gone
      res.setProperties(struct(conceal({ ...result.props }, state.secrets)));
      // The live inputs when they differ from state (always for an import: \`pulumi import\` and \`.get()\`
      // send only an id, and no live integration matches empty state), else the inputs as they were.
      const inputs = result.inputs ?? (req.getInputs() ? known.plain : undefined);
      if (inputs) res.setInputs(struct(conceal(inputs, [...known.secrets, ...state.secrets])));
      if (!req.getProperties()) await this.logged(async () => warnUnseen(result.props as Props, control));
      return res;
    }),
    update: answer<provproto.UpdateRequest, provproto.UpdateResponse>(async (req) => {
      this.assertType(req.getUrn());
      const olds = reveal(plain(req.getOlds()));
      const news = reveal(plain(req.getNews()));
      const { outs } = req.getPreview()
        ? this.operations.previewUpdate(olds.plain, news.plain)
        : await this.logged(() =>
            this.operations.update(
              req.getId(),
              olds.plain,
              news.plain,
              this.control("the update", req.getUrn(), req.getTimeout()),
              req.getIgnorechangesList(),
            ),
          );
      const secrets = [...olds.secrets, ...news.secrets];
      return new provproto.UpdateResponse().setProperties(struct(conceal({ ...outs }, secrets)));
    }),
    delete: answer<provproto.DeleteRequest, emptyproto.Empty>(async (req) => {
      this.assertType(req.getUrn());
      const control = this.control("the delete", req.getUrn(), req.getTimeout());
      await this.logged(() => this.operations.delete(req.getId(), reveal(plain(req.getProperties())).plain, control));
      return new emptyproto.Empty();
    }),
    invoke: answer<provproto.InvokeRequest, provproto.InvokeResponse>(async (req) => {
      if (req.getTok() !== LIST_TOKEN)
        throw new Error(`Unknown function ${req.getTok()}: this provider has ${LIST_TOKEN}`);
      const { plain: args, secrets } = reveal(plain(req.getArgs()));
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
      // A secret argument (a subuser's name, say) makes the answer secret: it is about that secret.
      const result = { integrations };
      return new provproto.InvokeResponse().setReturn(
        struct(secrets.size > 0 ? conceal(result, ["integrations"]) : result),
      );
    }),
    // Handshake, Parameterize, Construct, Call, Attach, GetMapping(s) and List are left out: grpc-js
    // answers them UNIMPLEMENTED, which the engine reads as "not supported" (and takes Configure's flags).
    cancel: answer<emptyproto.Empty, emptyproto.Empty>(() => {
      this.cancel();
      return new emptyproto.Empty();
    }),
  };

  /** Refuses a resource type this provider does not have (a URN's type is after its third `::`). */
  private assertType(urn: string): void {
    const type = urn.split("::")[2] ?? "";
    if (type.split("$").at(-1) !== RESOURCE_TOKEN) {
      throw new Error(`Unknown resource type ${JSON.stringify(type)}: this provider has ${RESOURCE_TOKEN}`);
    }
  }
}

/**
 * An import's read of an integration whose answer hides fields: the import succeeds with what is
 * known, and the user is told what the program must set (the engine's check shows the rest).
 */
function warnUnseen(props: Props, control: Control): void {
  const missing: string[] = [];
  if (typeof props.properties?.writeKey !== "string")
    missing.push("properties.writeKey (SendGrid does not show the write key)");
  if (typeof props.properties?.destinationRegion !== "string") {
    missing.push("properties.destinationRegion (SendGrid's answer does not say the Segment region)");
  }
  if (missing.length > 0) {
    // Stryker disable next-line OptionalChaining: warnUnseen gets only this.control's controls, which always pass controlFor a warn
    control.warn?.(
      `Imported SendGrid Segment integration ${String(props.integrationId)} with what SendGrid shows; set ${missing.join(" and ")} in the program`,
    );
  }
}

const toFailure = (f: CheckFailure) => new provproto.CheckFailure().setProperty(f.property).setReason(f.reason);

export interface Served {
  port: number;
  server: grpc.Server;
  provider: SendGridSegmentProvider;
  stop(): Promise<void>;
}

export interface ServeOptions {
  /** The address of the engine that started the plugin: warnings go to its log. */
  engineAddress?: string;
  /** Called once the engine is gone (its health is watched only then; the executable exits). */
  onEngineGone?: (why: string) => void;
  healthIntervalMs?: number;
}

/** Starts the service on a free loopback port. */
export async function serve(options: ServeOptions = {}): Promise<Served> {
  const server = new grpc.Server(); // one integration per message: far below grpc-js's 4 MB limit
  const engine = options.engineAddress ? new EngineLink(options.engineAddress, ENGINE_MODULES) : undefined;
  const provider = new SendGridSegmentProvider(engine);
  server.addService(provrpc.ResourceProviderService, provider.handlers as never);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  const stop = () =>
    new Promise<void>((resolve) => {
      engine?.close();
      server.tryShutdown(() => resolve());
    });
  const gone = options.onEngineGone;
  if (engine && gone) {
    engine.watch((why) => {
      provider.cancel(why); // nobody is left to receive what operations under way would answer
      void stop().then(() => gone(why));
    }, options.healthIntervalMs ?? HEALTH_INTERVAL_MS);
  }
  // Stryker disable next-line ArrowFunction: a server left running is not observable from the tests; the plugin test stops whole processes
  return { port, server, provider, stop };
}

/**
 * The plugin's entry: `pulumi-resource-sendgrid-segment [flags] <engine address>`, as the engine
 * runs it. Prints the port on stdout (the engine reads the first line), serves until the engine
 * stops it, and exits when the engine is gone.
 */
export async function main(
  args: string[],
  options: { healthIntervalMs?: number; exit?: (code: number) => void } = {},
): Promise<Served | undefined> {
  const engineAddress = args.filter((arg) => !arg.startsWith("-")).at(0);
  if (!engineAddress) {
    console.error(`usage: pulumi-resource-${PACKAGE} <engine address> (the Pulumi engine starts this plugin)`);
    process.exitCode = 1;
    return undefined;
  }
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const served = await serve({
    engineAddress,
    healthIntervalMs: options.healthIntervalMs,
    onEngineGone: (why) => {
      console.error(`pulumi-resource-${PACKAGE}: ${why}; exiting`);
      exit(0);
    },
  });
  (await import("node:fs")).writeSync(1, `${served.port}\n`); // a file write: process.stdout fails on a pipe under Wine
  return served;
}
