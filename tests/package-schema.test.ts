// Issue 18: the plugin's package schema is valid against Pulumi's package metaschema (vendored from
// ../shared/pulumi, Apache-2.0) and the binder rules the CLI adds (pkg/codegen/schema/bind.go), and
// it says what the model (provider/schema.ts) says: same inputs, secrets and replace rules.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { describe, expect, it } from "vitest";
import { diffIntegration } from "../provider/diff";
import { DYNAMIC_TYPE, LIST_TOKEN, PACKAGE, packageSchema, RESOURCE_TOKEN } from "../provider/native/schema";
import { checkInputs, fieldMeta, integrationSchema } from "../provider/schema";
import { DESTINATION_REGIONS, EMAIL_EVENTS } from "../provider/types";

const metaschema = JSON.parse(readFileSync(join(__dirname, "fixtures/pulumi/package.schema.json"), "utf8"));
const schema = packageSchema("1.2.3") as Record<string, any>;
const resource = schema.resources[RESOURCE_TOKEN];

/** Every `$ref` anywhere in the schema. */
const refs = (value: unknown): string[] =>
  Array.isArray(value)
    ? value.flatMap(refs)
    : value && typeof value === "object"
      ? Object.entries(value).flatMap(([k, v]) => (k === "$ref" && typeof v === "string" ? [v] : refs(v)))
      : [];

describe("the package schema", () => {
  it("is the committed plugin/schema.json (npm run schema rewrites it): every change to it is reviewed", () => {
    const version = JSON.parse(readFileSync(join(__dirname, "../package.json"), "utf8")).version;
    const committed = JSON.parse(readFileSync(join(__dirname, "../plugin/schema.json"), "utf8"));
    expect(packageSchema(version)).toEqual(committed);
  });

  it("is valid against Pulumi's package metaschema", () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(metaschema);
    expect(validate(schema), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it("a broken schema is caught by the same check (the test can fail)", () => {
    const validate = new Ajv2020({ strict: false }).compile(metaschema);
    expect(validate({ ...schema, name: "Not A Name!" })).toBe(false);
    expect(validate({ ...schema, resources: { "bad token": {} } })).toBe(false);
  });

  it("follows the binder's rules: tokens in this package, no index:Provider, no version setting, refs resolve", () => {
    expect(schema.name).toBe(PACKAGE);
    expect(schema.version).toBe("1.2.3");
    const tokens = [...Object.keys(schema.resources), ...Object.keys(schema.functions), ...Object.keys(schema.types)];
    for (const token of tokens) expect(token.split(":")[0]).toBe(PACKAGE);
    expect(Object.keys(schema.resources)).not.toContain(`${PACKAGE}:index:Provider`);
    expect(Object.keys(schema.config.variables)).not.toContain("version");
    expect(Object.keys(schema.provider.inputProperties)).not.toContain("version");
    for (const ref of refs(schema)) {
      expect(ref.startsWith("#/types/"), ref).toBe(true);
      expect(schema.types[ref.slice("#/types/".length)], ref).toBeDefined();
    }
    expect(Object.keys(schema.functions)).toEqual([LIST_TOKEN]);
  });

  it("has the model's inputs, required ones, secret and replace rules", () => {
    expect(Object.keys(resource.inputProperties).sort()).toEqual(Object.keys(integrationSchema.entries).sort());
    expect(resource.requiredInputs.sort()).toEqual(["filters", "properties"]);
    for (const [key, field] of Object.entries(integrationSchema.entries)) {
      const meta = fieldMeta(field);
      expect(resource.inputProperties[key].secret === true, key).toBe(meta.secret === true);
      expect(resource.inputProperties[key].willReplaceOnChanges === true, key).toBe(meta.replaces === true);
      expect(resource.inputProperties[key].description, key).toMatch(/\.$/);
    }
    expect(resource.inputProperties.properties.secret).toBe(true);
    // What diff replaces on is what the schema says replaces.
    const replacing = Object.keys(resource.inputProperties).filter(
      (k) => resource.inputProperties[k].willReplaceOnChanges,
    );
    const base = checkInputs({
      filters: { emailEvents: ["open"] },
      properties: { writeKey: "abcdef", destinationRegion: "US" },
    }).inputs;
    for (const key of replacing) {
      const changed = { ...base, [key]: key === "destination" ? "Other" : "changed" };
      expect(diffIntegration(base, changed).replaces, key).toEqual([key]);
    }
    for (const key of ["label", "importId"])
      expect(diffIntegration(base, { ...base, [key]: "changed" }).replaces).toEqual([]);
  });

  it("outputs: the ids beside every input; the dynamic type as an alias", () => {
    expect(Object.keys(resource.properties).sort()).toEqual(
      [
        ...Object.keys(integrationSchema.entries),
        "integrationId",
        "userId",
        "sendgridRegion",
        "sendgridKeyDigest",
      ].sort(),
    );
    // The API key's digest is kept secret, like the write key.
    expect(resource.properties.sendgridKeyDigest.secret).toBe(true);
    expect(resource.properties.sendgridRegion.secret).toBeUndefined();
    expect(resource.required).toEqual(expect.arrayContaining(["integrationId", "userId", "label", "destination"]));
    expect(resource.aliases).toEqual([{ type: DYNAMIC_TYPE }]);
  });

  it("enums are the model's values", () => {
    const values = (name: string) =>
      schema.types[`${PACKAGE}:index:${name}`].enum.map((e: { value: string }) => e.value);
    expect(values("EmailEvent")).toEqual([...EMAIL_EVENTS]);
    expect(values("DestinationRegion")).toEqual([...DESTINATION_REGIONS]);
    expect(schema.types[`${PACKAGE}:index:EmailEvent`].enum).toContainEqual({
      value: "group_unsubscribe",
      name: "GroupUnsubscribe",
    });
  });

  it("provider settings: the key secret, each with its environment variable", () => {
    const inputs = schema.provider.inputProperties;
    expect(Object.keys(inputs).sort()).toEqual(
      ["accounts", "apiBaseUrl", "apiKey", "region", "requestTimeoutMs", "retryBudgetMs"].sort(),
    );
    expect(inputs.apiKey).toMatchObject({ secret: true, defaultInfo: { environment: ["SENDGRID_API_KEY"] } });
    expect(inputs.requestTimeoutMs).toMatchObject({
      type: "integer",
      defaultInfo: { environment: ["SENDGRID_REQUEST_TIMEOUT_MS"] },
    });
    expect(schema.config.variables).toEqual(inputs);
  });

  it("named accounts take no defaults from the default account's variables (issue 22)", () => {
    // A generated Python or .NET SDK fills a property's defaultInfo from the environment: every named
    // account's key would have become SENDGRID_API_KEY's.
    const account = schema.types[`${PACKAGE}:index:Account`];
    expect(Object.keys(account.properties).sort()).toEqual(
      ["apiBaseUrl", "apiKey", "region", "requestTimeoutMs", "retryBudgetMs"].sort(),
    );
    for (const property of Object.values<Record<string, unknown>>(account.properties)) {
      expect(property).not.toHaveProperty("defaultInfo");
    }
    expect(account.properties.apiKey).toMatchObject({ secret: true });
  });
});
