// The native plugin behind the dynamic provider module's shape (`provider/dynamic`'s configure,
// check, diff, create, read, update, delete), so in-process suites written against that module run
// unchanged against the plugin's gRPC service: a fresh service per `configure` (a new deployment),
// spoken to as the engine does (secrets marked). Errors cross gRPC as their message only.
import { createRequire } from "node:module";
import { join } from "node:path";
import { type Served, serve } from "../../provider/native";
import { RESOURCE_TOKEN } from "../../provider/native/schema";
import { secret } from "../../provider/native/secrets";
import { connect, type ProviderClient } from "./engine.cjs";
import { withEngineSecrets } from "./engine-sim";

type Props = Record<string, any>;
const SETTINGS = ["apiKey", "region", "apiBaseUrl", "requestTimeoutMs", "retryBudgetMs", "accounts"];
const req = createRequire(join(__dirname, "..", "..", "package.json"));

export function nativeModule() {
  let served: Served | undefined;
  let client: ProviderClient | undefined;
  const door = () => withEngineSecrets(client ?? (undefined as never));
  const module = {
    /** Every configure starts a fresh plugin process here (one per deployment): nothing to forget. */
    newDeployment() {},
    /** Takes the dynamic runtime's ConfigureRequest (`sendgrid:*` keys) as the plugin's settings. */
    async configure(request: { config: { get(key: string): string | undefined } }) {
      await module.close();
      served = await serve();
      client = connect({ port: served.port, req, type: RESOURCE_TOKEN });
      const args: Props = {};
      for (const key of SETTINGS) {
        const value = request.config.get(`sendgrid:${key}`);
        if (value !== undefined) args[key] = key === "apiKey" ? secret(value) : value;
      }
      await client.configureArgs(args);
    },
    check: (olds: Props, news: Props) => door().check("r", olds, news),
    diff: async (id: string, olds: Props, news: Props) => {
      const { changes, replaces, deleteBeforeReplace } = await door().diff("r", id, olds, news);
      return { changes, replaces, deleteBeforeReplace };
    },
    create: async (inputs: Props) => {
      const { id, properties } = await door().create("r", inputs);
      return { id, outs: properties as never };
    },
    read: async (id: string, props: Props) => {
      const { id: read, properties, inputs } = await door().read("r", id, props);
      return { id: read, props: properties as never, ...(inputs ? { inputs } : {}) };
    },
    update: async (id: string, olds: Props, news: Props) => ({
      outs: (await door().update("r", id, olds, news)).properties as never,
    }),
    delete: (id: string, props: Props) => door().delete("r", id, props),
    async close() {
      client?.close();
      await served?.stop();
      client = undefined;
      served = undefined;
    },
  };
  return module;
}
