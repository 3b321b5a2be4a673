// Issue 18: the "Use it from any language" programs (docs/plugin.md, moved there from the README)
// say what the plugin's schema says.
// YAML needs no SDK, so its program is checked whole: it loads under the CLI's project rules, and
// every type token, property, enum value, function and output it names exists in the schema. The
// SDK programs (TypeScript, Python, Go, C#) are checked for their package names and property
// names, converted the way Pulumi's code generators convert them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DYNAMIC_TYPE, PACKAGE, RESOURCE_TOKEN } from "../provider/native/schema";
import {
  blocks as blocksIn,
  canonical,
  knownProperties,
  schema,
  sdkImports,
  sdkProperties,
  yamlMisfits,
} from "./docs/schema-check";
import { REPO } from "./support/programs";
import { projectErrors } from "./support/pulumi-project";

const SECTION = readFileSync(join(REPO, "docs/plugin.md"), "utf8");

/** The fenced blocks of one language in the page. */
const blocks = (lang: string) => blocksIn(SECTION, lang);

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
  it("one program per language: TypeScript, Python, Go, C#, YAML", () => {
    for (const lang of ["ts", "python", "go", "csharp", "yaml"]) expect(blocks(lang), lang).toHaveLength(1);
  });

  it("import the package names the schema gives each language", () => {
    for (const lang of ["ts", "python", "go", "csharp"] as const) expect(blocks(lang)[0]).toContain(sdkImports[lang]());
  });

  it("set only properties the schema has (as each generator names them)", () => {
    for (const lang of ["ts", "python", "go", "csharp"] as const) {
      const used = sdkProperties[lang](blocks(lang)[0]!);
      expect(used.length, lang).toBeGreaterThanOrEqual(4);
      expect(
        used.filter((name) => !knownProperties.has(name)),
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
