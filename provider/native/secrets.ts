/**
 * Secrets on the wire of a provider that accepts them (`acceptSecrets: true`): the engine sends a
 * secret value as an object with Pulumi's signature key, and expects the provider to mark secret
 * outputs the same way. The model says which fields are secret (`properties`).
 */
import { fieldMeta, integrationSchema, SECRET_OUTPUTS } from "../schema";
import { isRecord } from "../types";

/** Pulumi's special signature key and the value that marks a secret. */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
// killed by hand StringLiteral: applied by hand, native.test.ts's check against the SDK's constant fails (a static mutant)
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export const isSecret = (value: unknown): value is { value: unknown } =>
  isRecord(value) && value[SIG_KEY] === SECRET_SIG;

export const secret = (value: unknown) => ({ [SIG_KEY]: SECRET_SIG, value });

/** A copy with every secret replaced by its value, and the top-level keys that held a secret anywhere. */
export function reveal(props: Record<string, unknown>): { plain: Record<string, any>; secrets: Set<string> } {
  const open = (value: unknown): unknown => {
    if (isSecret(value)) return open(value.value);
    if (Array.isArray(value)) return value.map(open);
    if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, open(v)]));
    return value;
  };
  const plain: Record<string, any> = {};
  const secrets = new Set<string>();
  for (const [key, value] of Object.entries(props)) {
    plain[key] = open(value);
    // A secret anywhere under a key keeps the whole key secret (it is re-marked at the top).
    if (String(JSON.stringify(value)).includes(SIG_KEY)) secrets.add(key);
  }
  return { plain, secrets };
}

/** The model's secret fields (`properties`, with the write key) and secret outputs (the key's digest). */
const MODEL_SECRETS = [
  ...Object.entries(integrationSchema.entries)
    .filter(([, field]) => fieldMeta(field).secret)
    .map(([key]) => key),
  ...SECRET_OUTPUTS,
];

/** Marks the model's secret fields, and `also` (keys that arrived secret), as secrets (top level only). */
export function conceal(props: Record<string, unknown>, also: Iterable<string>): Record<string, unknown> {
  const out = { ...props };
  for (const key of new Set([...MODEL_SECRETS, ...also])) {
    if (out[key] !== undefined && !isSecret(out[key])) out[key] = secret(out[key]);
  }
  return out;
}
