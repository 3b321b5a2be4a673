// What the docs' programs may name, checked against the plugin's package schema: shared by the
// "Use it from any language" page, docs/plugin.md (languages.test.ts), the README's YAML program
// (readme.test.ts) and the Pulumi Registry pages in docs/ (registry-docs.test.ts). YAML needs no
// SDK, so a YAML program is checked whole: every type token, property, enum value, function and
// output it names exists in the schema. The SDK programs (TypeScript, Python, Go, C#) are checked
// for their package names and property names, converted the way Pulumi's code generators convert
// them.
import { PACKAGE, packageSchema, RESOURCE_TOKEN } from "../../provider/native/schema";

export const schema = packageSchema("0.0.0") as Record<string, any>;

/** The fenced blocks of one language in a Markdown text. */
export const blocks = (markdown: string, lang: string) =>
  [...markdown.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, "g"))].map((m) => m[1]!);

/** YAML's `pkg:Type` is `pkg:index:Type`. */
export const canonical = (token: string) => (token.split(":").length === 2 ? token.replace(":", ":index:") : token);

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
export function yamlMisfits(program: Record<string, any>): string[] {
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

const camel = (s: string) =>
  s.charAt(0).toLowerCase() + s.slice(1).replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
/** Every input property of the resource and of its object types. */
export const knownProperties = new Set([
  ...Object.keys(schema.resources[RESOURCE_TOKEN].inputProperties),
  ...Object.values<Spec>(schema.types).flatMap((t) => Object.keys(t.properties ?? {})),
]);

/** The property names an SDK program sets, in the schema's spelling, per language's block. */
export const sdkProperties = {
  ts: (code: string) => {
    const call = code.slice(code.indexOf("SegmentIntegration("));
    return [...call.slice(0, call.indexOf("});")).matchAll(/(\w+): /g)].map((m) => m[1]!);
  },
  python: (code: string) => [...code.matchAll(/(\w+)=/g)].map((m) => camel(m[1]!)),
  go: (code: string) => [...code.matchAll(/^\s+([A-Z]\w*):/gm)].map((m) => camel(m[1]!)),
  csharp: (code: string) => [...code.matchAll(/^\s+([A-Z]\w*) =/gm)].map((m) => camel(m[1]!)),
};

/** How each SDK program imports the generated package, by the names the schema gives each language. */
export const sdkImports = {
  ts: () => `from "${schema.language.nodejs.packageName}"`,
  python: () => `import ${schema.language.python.packageName} as`,
  go: () => `"${schema.language.go.importBasePath}"`,
  csharp: () => `Pulumi.${schema.language.csharp.namespaces[PACKAGE]}`,
};
