// What the Pulumi CLI checks when it loads a project, reproduced from its rules (the CLI cannot be
// installed here): the JSON schema of Pulumi.yaml (tests/fixtures/pulumi/project.schema.json,
// Apache-2.0, from pulumi/pulumi sdk/go/common/workspace/project.json), then `Project.Validate`'s
// rules for `config:` (sdk/go/common/workspace/project.go), then committed stack values
// (Pulumi.<stack>.yaml) against the types the project declares.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { parse } from "yaml";

const schema = JSON.parse(readFileSync(join(__dirname, "..", "fixtures", "pulumi", "project.schema.json"), "utf8"));
const validateSchema = new Ajv2020({ allErrors: true, strict: false }).compile(schema);

type Decl = { type?: string; items?: Items; default?: unknown; value?: unknown; secret?: boolean };
type Items = { type: string | Items; items?: Items };

export interface Project {
  name: string;
  config: Record<string, unknown>;
}

/** Errors the CLI would report loading this Pulumi.yaml; [] when it loads. */
export function projectErrors(text: string): string[] {
  const project = parse(text) as Project;
  if (!validateSchema(project)) {
    return (validateSchema.errors ?? []).map((e) => `schema: ${e.instancePath || "/"} ${e.message}`);
  }
  const errors: string[] = [];
  for (const [key, raw] of Object.entries((project.config ?? {}) as Record<string, unknown>)) {
    if (raw === null || typeof raw !== "object") continue; // a plain value
    const decl = raw as Decl;
    if ("default" in decl && "value" in decl)
      errors.push(`project config '${key}' cannot have both a default and a value`);
    const ownNamespace = !key.includes(":") || key.startsWith(`${project.name}:`);
    if (ownNamespace) {
      if (decl.type === "array" && decl.items === undefined) {
        errors.push(
          `The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`,
        );
      }
      if (decl.type !== undefined && "default" in decl && !matches(decl.default, decl.type, decl.items)) {
        errors.push(
          `The default value specified for configuration key '${key}' is not of the expected type '${decl.type}'`,
        );
      }
    } else {
      if (decl.type !== undefined)
        errors.push(`Configuration key '${key}' is not namespaced by the project and should not define a type`);
      if ("default" in decl)
        errors.push(
          `Configuration key '${key}' is not namespaced by the project and should not define a default value`,
        );
      if (!("value" in decl))
        errors.push(`Configuration key '${key}' is not namespaced by the project and should define a value`);
    }
  }
  return errors;
}

/** Errors for a committed stack file against its project: missing required keys and wrong types. */
export function stackErrors(stackText: string, projectText: string): string[] {
  const project = parse(projectText);
  const config = (parse(stackText)?.config ?? {}) as Record<string, unknown>;
  const errors: string[] = [];
  for (const [key, raw] of Object.entries((project.config ?? {}) as Record<string, unknown>)) {
    if (key.includes(":") && !key.startsWith(`${project.name}:`)) continue;
    const full = key.includes(":") ? key : `${project.name}:${key}`;
    const decl: Decl = raw !== null && typeof raw === "object" ? (raw as Decl) : { value: raw };
    const value = config[full];
    if (value === undefined) {
      if (!("default" in decl) && !("value" in decl)) errors.push(`Stack is missing configuration value '${full}'`);
      continue;
    }
    const secure = value !== null && typeof value === "object" && "secure" in (value as object);
    if (decl.type !== undefined && !secure && !matches(value, decl.type, decl.items)) {
      errors.push(`Stack configuration value '${full}' is not of the declared type '${decl.type}'`);
    }
  }
  for (const key of Object.keys(config)) {
    if (!key.includes(":")) errors.push(`Stack configuration key '${key}' is not namespaced`);
  }
  return errors;
}

function matches(value: unknown, type: string | Items, items?: Items): boolean {
  if (typeof type === "object") return matches(value, type.type, type.items);
  switch (type) {
    case "string":
      return typeof value === "string";
    case "integer":
      return Number.isInteger(value);
    case "boolean":
      return typeof value === "boolean";
    case "object":
      return value !== null && typeof value === "object" && !Array.isArray(value);
    case "array":
      return Array.isArray(value) && (items === undefined || value.every((v) => matches(v, items.type, items.items)));
    default:
      return false;
  }
}
