// Issue 18: the README's "Use it from any language" programs say what the plugin's schema says.
// YAML needs no SDK, so its program is checked whole: it loads under the CLI's project rules, and
// every type token, property, enum value, function and output it names exists in the schema. The
// SDK programs (TypeScript, Python, Go, C#) are checked for their package names and property
// names, converted the way Pulumi's code generators convert them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DYNAMIC_TYPE, PACKAGE, packageSchema, RESOURCE_TOKEN } from "../provider/native/schema";
import { REPO } from "./support/programs";
import { projectErrors } from "./support/pulumi-project";

const README = readFileSync(join(REPO, "README.md"), "utf8");
const SECTION = README.slice(
  README.indexOf("## Use it from any language"),
  README.indexOf("\n## ", README.indexOf("## Use it from any language") + 5),
);
const schema = packageSchema("0.0.0") as Record<string, any>;

/** The fenced blocks of one language in the section. */
const blocks = (lang: string) =>
  [...SECTION.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, "g"))].map((m) => m[1]!);

/** YAML's `pkg:Type` is `pkg:index:Type`. */
const canonical = (token: string) => (token.split(":").length === 2 ? token.replace(":", ":index:") : token);

type Spec = Record<string, any>;
const typeOf = (spec: Spec): Spec | undefined =>
  spec.$ref ? schema.types[String(spec.$ref).slice("#/types/".length)] : undefined;

/** Where `value` does not fit `properties` (names, nested objects, enum values, lists). */
function misfits(value: unknown, properties: Record<string, Spec>, at: string): string[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [`${at}: not an object`];
  const out: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const spec = properties[key];
    if (!spec) {
      out.push(`${at}.${key}: not in the schema`);
      continue;
    }
    out.push(...fits(v, spec, `${at}.${key}`));
  }
  return out;
}

function fits(value: unknown, spec: Spec, at: string): string[] {
  if (typeof value === "string" && value.startsWith("${")) return []; // an interpolation: checked at run time
  const type = typeOf(spec);
  if (type?.enum) {
    const values = type.enum.map((e: { value: string }) => e.value);
    return values.includes(value) ? [] : [`${at}: ${JSON.stringify(value)} is not one of ${values.join(", ")}`];
  }
  if (type?.type === "object") return misfits(value, type.properties, at);
  if (spec.type === "array") {
    if (!Array.isArray(value)) return [`${at}: not a list`];
    return value.flatMap((item, i) => fits(item, spec.items, `${at}[${i}]`));
  }
  if (spec.type === "string") return typeof value === "string" ? [] : [`${at}: not a string`];
  return [];
}

/** Every mismatch between a Pulumi YAML program and the plugin's schema. */
function yamlMisfits(program: Record<string, any>): string[] {
  const out: string[] = [];
  const names = new Map<string, string>();
  for (const [name, res] of Object.entries<Record<string, any>>(program.resources ?? {})) {
    const token = canonical(res.type);
    names.set(name, token);
    if (token === `pulumi:providers:${PACKAGE}`) {
      out.push(...misfits(res.properties ?? {}, schema.provider.inputProperties, name));
      continue;
    }
    const resource = schema.resources[token];
    if (!resource) {
      out.push(`${name}: no resource ${res.type}`);
      continue;
    }
    out.push(...misfits(res.properties ?? {}, resource.inputProperties, name));
    for (const key of resource.requiredInputs)
      if (!(key in (res.properties ?? {}))) out.push(`${name}.${key}: missing`);
  }
  for (const [name, variable] of Object.entries<Record<string, any>>(program.variables ?? {})) {
    const invoke = variable["fn::invoke"];
    if (!invoke) continue;
    const fn = schema.functions[canonical(invoke.function)];
    if (!fn) {
      out.push(`${name}: no function ${invoke.function}`);
      continue;
    }
    out.push(...misfits(invoke.arguments ?? {}, fn.inputs.properties, name));
    if (invoke.return && !fn.outputs.properties[invoke.return]) out.push(`${name}: no output ${invoke.return}`);
  }
  for (const [name, value] of Object.entries<string>(program.outputs ?? {})) {
    for (const [, resource, property] of value.matchAll(/\$\{(\w+)\.(\w+)\}/g)) {
      const token = names.get(resource!);
      if (token && !schema.resources[token]?.properties[property!])
        out.push(`${name}: ${resource}.${property} is no output`);
    }
  }
  return out;
}

describe("the YAML program", () => {
  const [text] = blocks("yaml");
  const program = parse(text!);

  it("is a whole Pulumi.yaml that loads under the CLI's project rules", () => {
    expect(projectErrors(text!)).toEqual([]);
    expect(program.runtime).toBe("yaml");
  });

  it("names only the schema's types, properties, enum values, functions and outputs", () => {
    expect(yamlMisfits(program)).toEqual([]);
    expect(Object.values<Record<string, string>>(program.resources).map((r) => canonical(r.type))).toContain(
      RESOURCE_TOKEN,
    );
  });

  it("the check finds a misspelled property, an unknown event, a wrong type and a missing input", () => {
    const broken = structuredClone(program);
    broken.resources.prodEvents.properties.lable = "x";
    broken.resources.prodEvents.properties.filters.emailEvents.push("opened");
    broken.resources.euAccount.properties.regoin = "eu";
    delete broken.resources.euEvents.properties.filters;
    broken.resources.other = { type: "sendgrid-segment:Integration" };
    broken.outputs.bad = ["$", "{prodEvents.writeKey}"].join(""); // an interpolation in the YAML program
    expect(yamlMisfits(broken)).toEqual([
      'prodEvents.filters.emailEvents[3]: "opened" is not one of ' +
        schema.types[`${PACKAGE}:index:EmailEvent`].enum.map((e: { value: string }) => e.value).join(", "),
      "prodEvents.lable: not in the schema",
      "euAccount.regoin: not in the schema",
      "euEvents.filters: missing",
      "other: no resource sendgrid-segment:Integration",
      "bad: prodEvents.writeKey is no output",
    ]);
  });
});

describe("the SDK programs and commands", () => {
  const camel = (s: string) =>
    s.charAt(0).toLowerCase() + s.slice(1).replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  const known = new Set([
    ...Object.keys(schema.resources[RESOURCE_TOKEN].inputProperties),
    ...Object.values<Spec>(schema.types).flatMap((t) => Object.keys(t.properties ?? {})),
  ]);

  it("one program per language: TypeScript, Python, Go, C#, YAML", () => {
    for (const lang of ["ts", "python", "go", "csharp", "yaml"]) expect(blocks(lang), lang).toHaveLength(1);
  });

  it("import the package names the schema gives each language", () => {
    expect(blocks("ts")[0]).toContain(`from "${schema.language.nodejs.packageName}"`);
    expect(blocks("python")[0]).toContain(`import ${schema.language.python.packageName} as`);
    expect(blocks("go")[0]).toContain(`"${schema.language.go.importBasePath}"`);
    expect(blocks("csharp")[0]).toContain(`Pulumi.${schema.language.csharp.namespaces[PACKAGE]}`);
  });

  it("set only properties the schema has (as each generator names them)", () => {
    const call = blocks("ts")[0]!.slice(blocks("ts")[0]!.indexOf("SegmentIntegration("));
    const ts = [...call.slice(0, call.indexOf("});")).matchAll(/(\w+): /g)].map((m) => m[1]!);
    const python = [...blocks("python")[0]!.matchAll(/(\w+)=/g)].map((m) => camel(m[1]!));
    const go = [...blocks("go")[0]!.matchAll(/^\s+([A-Z]\w*):/gm)].map((m) => camel(m[1]!));
    const csharp = [...blocks("csharp")[0]!.matchAll(/^\s+([A-Z]\w*) =/gm)].map((m) => camel(m[1]!));
    for (const [lang, used] of Object.entries({ ts, python, go, csharp })) {
      expect(used.length, lang).toBeGreaterThanOrEqual(4);
      expect(
        used.filter((name) => !known.has(name)),
        lang,
      ).toEqual([]);
    }
  });

  it("the import command and the alias name the schema's tokens", () => {
    expect(SECTION).toContain(`pulumi import ${RESOURCE_TOKEN} prod-events <integration id>`);
    expect(SECTION).toContain(`(\`${DYNAMIC_TYPE}\`)`);
    expect(SECTION).toContain(`pulumi:providers:${PACKAGE}`);
  });
});
