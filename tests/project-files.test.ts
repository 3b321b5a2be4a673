// Every Pulumi.yaml and committed Pulumi.<stack>.yaml in the repository loads under the Pulumi
// CLI's own rules (reproduced in support/pulumi-project.ts), so `pulumi up` does not fail before
// it starts. The validator itself is checked against files the CLI rejects.
import { createDecipheriv, pbkdf2Sync } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO } from "./support/programs";
import { projectErrors, stackErrors } from "./support/pulumi-project";

function find(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    // Not what ships: dependencies, builds, local stacks, and Stryker's sandboxes while a mutation run is on.
    if (["node_modules", ".git", "dist", ".pulumi-local", ".stryker-tmp"].includes(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) find(path, out);
    else if (/^Pulumi(\.[^.]+)?\.yaml$/.test(entry.name)) out.push(path);
  }
  return out;
}
const files = find(REPO);
const projects = files.filter((f) => f.endsWith("/Pulumi.yaml"));
const stacks = files.filter((f) => !f.endsWith("/Pulumi.yaml"));

describe("the repository's Pulumi files load under the CLI's rules", () => {
  it("finds the root project, both examples and the emulator stack", () => {
    expect(files.map((f) => relative(REPO, f)).sort()).toEqual([
      "Pulumi.emulator.yaml",
      "Pulumi.yaml",
      "examples/basic/Pulumi.yaml",
      "examples/composed/Pulumi.yaml",
    ]);
  });

  it.each(projects.map((f) => [relative(REPO, f), f]))("%s passes the schema and Project.Validate", (_, file) => {
    expect(projectErrors(readFileSync(file, "utf8"))).toEqual([]);
  });

  it.each(stacks.map((f) => [relative(REPO, f), f]))("%s has every declared key, of its declared type", (_, file) => {
    expect(stackErrors(readFileSync(file, "utf8"), readFileSync(join(dirname(file), "Pulumi.yaml"), "utf8"))).toEqual(
      [],
    );
  });

  it("the root program still reads its integration list from stack config", () => {
    const stack = parse(readFileSync(join(REPO, "Pulumi.emulator.yaml"), "utf8"));
    expect(stack.config["sendgrid-integrations:integrations"]).toHaveLength(2);
    expect(readFileSync(join(REPO, "index.ts"), "utf8")).toContain("pulumi.runtime.getConfig(key)");
  });

  it("the emulator stack's encryptionsalt unlocks with the demo passphrase, as the CLI checks it", () => {
    // v1:<salt>:v1:<nonce>:<AES-256-GCM of "pulumi">, key = PBKDF2-SHA256(passphrase, salt, 1e6, 32).
    const salt = parse(readFileSync(join(REPO, "Pulumi.emulator.yaml"), "utf8")).encryptionsalt as string;
    const [v1, saltB64, v1b, nonceB64, sealedB64] = salt.split(":");
    expect([v1, v1b]).toEqual(["v1", "v1"]);
    const key = pbkdf2Sync("emulator-demo", Buffer.from(saltB64!, "base64"), 1_000_000, 32, "sha256");
    const sealed = Buffer.from(sealedB64!, "base64");
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(nonceB64!, "base64"));
    decipher.setAuthTag(sealed.subarray(-16));
    expect(Buffer.concat([decipher.update(sealed.subarray(0, -16)), decipher.final()]).toString()).toBe("pulumi");
  });
});

describe("the validator rejects what the CLI rejects", () => {
  const project = (config: string) => `name: p\nruntime: nodejs\nconfig:\n${config}`;

  it("an array without items (the bug that stopped `pulumi up` of the root program)", () => {
    expect(projectErrors(project("  p:integrations:\n    type: array\n"))).toEqual([
      "The configuration key 'p:integrations' declares an array but does not specify the underlying type via the 'items' attribute",
    ]);
  });

  it("type or default on another namespace's key, or no value", () => {
    expect(projectErrors(project("  sendgrid:region:\n    type: string\n    default: eu\n"))).toEqual([
      "Configuration key 'sendgrid:region' is not namespaced by the project and should not define a type",
      "Configuration key 'sendgrid:region' is not namespaced by the project and should not define a default value",
      "Configuration key 'sendgrid:region' is not namespaced by the project and should define a value",
    ]);
    expect(projectErrors(project("  sendgrid:region:\n    value: eu\n"))).toEqual([]);
  });

  it("both default and value, a default of the wrong type, and schema violations", () => {
    expect(projectErrors(project("  n:\n    type: integer\n    default: x\n"))).toEqual([
      "The default value specified for configuration key 'n' is not of the expected type 'integer'",
    ]);
    expect(projectErrors(project("  n:\n    default: 1\n    value: 2\n"))).toEqual([
      "project config 'n' cannot have both a default and a value",
    ]);
    expect(projectErrors(project("  n:\n    type: list\n"))[0]).toMatch(/^schema: /);
    expect(projectErrors("runtime: nodejs\n")[0]).toMatch(/^schema: .*must have required property 'name'/);
  });

  it("stack values: missing declared keys and wrong types; secure values are not type-checked", () => {
    const p = project("  count:\n    type: integer\n  names:\n    type: array\n    items:\n      type: string\n");
    expect(stackErrors("config:\n  p:count: 3\n  p:names: [a, b]\n", p)).toEqual([]);
    expect(stackErrors("config:\n  p:count: three\n", p)).toEqual([
      "Stack configuration value 'p:count' is not of the declared type 'integer'",
      "Stack is missing configuration value 'p:names'",
    ]);
    expect(stackErrors("config:\n  p:count:\n    secure: v1:abc\n  p:names: [1]\n", p)).toEqual([
      "Stack configuration value 'p:names' is not of the declared type 'array'",
    ]);
  });
});
