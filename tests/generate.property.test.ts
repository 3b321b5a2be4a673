// Text from the API is data (issue 17): whatever a label, id, subuser or account name holds, the
// program `import` prints parses (TypeScript's own parser) into exactly the expected statements,
// and each text comes back whole from its string literal. A label such as
// "x\u2028globalThis.PWNED=1\u2028//" used to become a live line of the generated index.ts.
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { literal, renderProgram } from "../cli/generate";
import type { SegmentIntegrationInfo } from "../provider/list";
import { fc } from "./support/fast-check";

const anyText = fc.string({ unit: "binary", maxLength: 40 });
const infoArb: fc.Arbitrary<SegmentIntegrationInfo> = fc.record(
  {
    integrationId: fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/),
    userId: anyText,
    label: anyText,
    destination: fc.constant("Segment" as const),
    filters: fc.record({ emailEvents: fc.constant(["open" as const]) }),
    properties: fc.record({ destinationRegion: fc.constantFrom("US" as const, "EU" as const) }),
    onBehalfOf: anyText,
    account: anyText,
  },
  { requiredKeys: ["integrationId", "userId", "label", "destination", "filters", "properties"] },
);

/** The string value of property `key` in an object literal, or undefined. */
function stringProperty(object: ts.ObjectLiteralExpression, key: string): string | undefined {
  for (const p of object.properties) {
    if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === key) {
      expect(ts.isStringLiteral(p.initializer), `${key} is a string literal`).toBe(true);
      return (p.initializer as ts.StringLiteral).text;
    }
  }
  return undefined;
}

describe("generated programs hold API text only as string literals", () => {
  it("the known attack: a label with U+2028 stays inside its literal", () => {
    const program = renderProgram([
      {
        integrationId: "id1",
        userId: "1",
        label: "x\u2028globalThis.PWNED=1\u2028//",
        destination: "Segment",
        filters: { emailEvents: ["open"] },
        properties: { destinationRegion: "US" },
      },
    ]);
    expect(program).not.toMatch(/[\u2028\u2029]/);
    expect(program).toContain('label: "x\\u2028globalThis.PWNED=1\\u2028//",');
    expect(program.split("\n").filter((line) => line.startsWith("globalThis"))).toEqual([]);
  });

  it("literal: printable ASCII only, and JavaScript reads back the same text", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const out = literal(text);
        expect(out).toMatch(/^[\x20-\x7e]*$/);
        expect(new Function(`return ${out};`)()).toBe(text);
      }),
    );
  });

  it("any labels, ids, subusers and accounts: exactly the expected statements, each text round-trips", () => {
    fc.assert(
      fc.property(fc.array(infoArb, { maxLength: 4 }), (infos) => {
        const program = renderProgram(infos);
        expect(program).toMatch(/^[\x20-\x7e\n]*$/);
        const file = ts.createSourceFile("index.ts", program, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
        expect((file as unknown as { parseDiagnostics: unknown[] }).parseDiagnostics).toEqual([]);
        const kinds = file.statements.map((s) =>
          ts.isImportDeclaration(s) ? "ImportDeclaration" : ts.isVariableStatement(s) ? "VariableStatement" : "other",
        );
        expect(kinds).toEqual([
          "ImportDeclaration",
          "ImportDeclaration",
          "VariableStatement", // const cfg
          ...infos.map(() => "VariableStatement"),
          "VariableStatement", // export const integrationIds
        ]);
        infos.forEach((info, i) => {
          const statement = file.statements[3 + i] as ts.VariableStatement;
          const init = statement.declarationList.declarations[0]!.initializer!;
          expect(ts.isNewExpression(init)).toBe(true);
          const call = init as ts.NewExpression;
          expect(call.expression.getText(file)).toBe("SegmentIntegration");
          const object = call.arguments![1] as ts.ObjectLiteralExpression;
          expect(stringProperty(object, "importId")).toBe(info.integrationId);
          expect(stringProperty(object, "label")).toBe(info.label);
          expect(stringProperty(object, "onBehalfOf")).toBe(info.onBehalfOf || undefined);
          expect(stringProperty(object, "account")).toBe(info.account || undefined);
        });
        // Every comment is a whole line of its own; none holds a line break of any kind.
        const comments = program.split("\n").filter((line) => line.trimStart().startsWith("//"));
        expect(comments.length).toBe(infos.length === 0 ? 2 : 2 + infos.length);
      }),
    );
  });
});
