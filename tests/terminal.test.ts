// Text from outside is data on a terminal (issue 25): the escapes themselves, character class by
// character class, and the JSON that stays the same JSON.
import { describe, expect, it } from "vitest";
import { errorLine } from "../cli/main";
import { jsonText, safeText, shown, term } from "../cli/terminal";
import { fc } from "./support/fast-check";

/** Every character a terminal could act on, or that hides or reorders text. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
/** The same, except the line feeds of a layout. */
const UNSAFE_NOT_NEWLINE = /(?!\n)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
/** The escapes `shown` writes. */
const ESCAPE = /\\(x[0-9a-f]{2}|u[0-9a-f]{4}|u\{[0-9a-f]+\}|[nrt])/g;

describe("shown: one value from outside", () => {
  it("escapes C0 and C1 controls, DEL, ESC and OSC sequences, bidi and zero-width characters, separators", () => {
    expect(shown("a\nb\rc\td")).toBe("a\\nb\\rc\\td");
    expect(shown("\x00\x07\x08\x1b\x7f")).toBe("\\x00\\x07\\x08\\x1b\\x7f");
    expect(shown("\x1b[2J\x1b[H")).toBe("\\x1b[2J\\x1b[H");
    expect(shown("\x1b]8;;http://evil\x07link\x1b]8;;\x07")).toBe("\\x1b]8;;http://evil\\x07link\\x1b]8;;\\x07");
    // 8-bit CSI and OSC, and NEL
    expect(shown("\x9b31m\x9d0;title\x9c\x85")).toBe("\\x9b31m\\x9d0;title\\x9c\\x85");
    expect(shown("abc\u202edcba\u202c \u2066x\u2069 \u200e\u200f\u200b\ufeff")).toBe(
      "abc\\u202edcba\\u202c \\u2066x\\u2069 \\u200e\\u200f\\u200b\\ufeff",
    );
    expect(shown("a\u2028b\u2029c")).toBe("a\\u2028b\\u2029c");
    // Below U+1000: four hex digits all the same (the Arabic letter mark, a bidi control)
    expect(shown("\u061c\u0600")).toBe("\\u061c\\u0600");
    // A lone surrogate, and a format character past U+FFFF (a tag character)
    expect(shown("x\ud800y")).toBe("x\\ud800y");
    expect(shown("\u{e0041}")).toBe("\\u{e0041}");
  });

  it("leaves printable text in any script as it is, and shows non-strings as text", () => {
    for (const text of ["Prod events", "Café – ünïcödé", "東京のイベント", "emoji 🎉", "a\\nb", "tab\\t"]) {
      expect(shown(text)).toBe(text);
    }
    expect(shown(42)).toBe("42");
    expect(shown(undefined)).toBe("undefined");
  });

  it("never lets an unsafe character through, and keeps every safe one", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 60 }), (text) => {
        const out = shown(text);
        expect(out).not.toMatch(UNSAFE);
        // Only unsafe characters were replaced: removing them from the input leaves the output's own text.
        expect(out.replace(ESCAPE, "")).toBe(text.replace(new RegExp(UNSAFE.source, "gu"), "").replace(ESCAPE, ""));
      }),
    );
  });
});

describe("term, safeText, jsonText, errorLine", () => {
  it("term escapes every interpolated value and nothing of the template", () => {
    expect(term`account "${"a\nb"}":\n  ${"\x1b[2J"}`).toBe('account "a\\nb":\n  \\x1b[2J');
    expect(term`${1} and ${"x"}`).toBe("1 and x");
    expect(term`plain`).toBe("plain");
  });

  it("safeText keeps the line feeds of a text this program wrote and escapes the rest", () => {
    expect(safeText("one\ntwo\x1b[2J\r\u202e\n")).toBe("one\ntwo\\x1b[2J\\r\\u202e\n");
  });

  it("jsonText is the same JSON value with nothing a terminal acts on", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: "binary", maxLength: 30 }), (value, text) => {
        const doc = { value, text, list: [text, { text }] };
        const out = jsonText(doc);
        expect(out.endsWith("\n")).toBe(true);
        expect(out).not.toMatch(UNSAFE_NOT_NEWLINE);
        expect(JSON.parse(out)).toStrictEqual(JSON.parse(JSON.stringify(doc)));
      }),
    );
    expect(jsonText({ a: "\x9b\u202e\u2028\u{e0041}" })).toBe('{\n  "a": "\\u009b\\u202e\\u2028\\udb40\\udc41"\n}\n');
  });

  it("errorLine: a failed command's message on one line, as data", () => {
    expect(errorLine(new Error('no API key for account "x\nClean: state and SendGrid agree.\x1b[2J"'))).toBe(
      'pulumi-sendgrid-segment: no API key for account "x\\nClean: state and SendGrid agree.\\x1b[2J"\n',
    );
  });
});
