/**
 * Text from outside (stack exports, API answers and their error bodies, account and subuser
 * names, file names) is data on a terminal, never control: every character that is not printable
 * text becomes a visible escape, so an export taken from a pull request cannot clear the screen,
 * move the cursor, set a window title or hyperlink (OSC), reorder what a reviewer reads (bidi
 * controls), or start a line of its own ("Clean: state and SendGrid agree.").
 *
 * What is escaped: Unicode's control characters (`Cc`: C0, DEL and C1, so ESC and the 8-bit CSI
 * and OSC introducers), format characters (`Cf`: the bidi embeddings, overrides and isolates, the
 * marks, zero-width characters, the byte-order mark), the line and paragraph separators (`Zl`,
 * `Zp`) and lone surrogates (`Cs`). Printable text in any script is left as it is. A regular
 * expression over Unicode's own categories is all it takes; the libraries for this either strip
 * sequences (`strip-ansi`, `util.stripVTControlCharacters`: a reader should see that something
 * was there) or escape everything outside ASCII (`jsesc`: names in other scripts would become
 * unreadable).
 */

/** The characters a terminal could act on, or that hide or reorder text. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;
/** The same, but a line feed is let through: for whole texts whose lines this program wrote. */
const UNSAFE_BUT_NEWLINE = /(?!\n)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** `\n`, `\x1b`, `\u202e`: the escape that shows one unsafe character. */
function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.codePointAt(0)!;
  // equivalent EqualityOperator: U+00FF (ÿ) is a letter, never escaped
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, "0")}`;
  // equivalent EqualityOperator: U+FFFF is a noncharacter, in none of the escaped categories
  return code <= 0xffff ? `\\u${code.toString(16).padStart(4, "0")}` : `\\u{${code.toString(16)}}`;
}

/** One value from outside, as it may appear on a terminal: every unsafe character escaped, newlines too. */
export function shown(value: unknown): string {
  return String(value).replace(UNSAFE, escapeOne);
}

/**
 * A text this program put together, its values already `shown`: a last guard at the output, which
 * lets its line feeds through and escapes anything else unsafe that reached it.
 */
export function safeText(text: string): string {
  return text.replace(UNSAFE_BUT_NEWLINE, escapeOne);
}

/** A template whose every interpolated value is `shown`: ``term`account ${name}:` ``. */
export function term(strings: TemplateStringsArray, ...values: unknown[]): string {
  return strings.reduce((out, part, i) => out + shown(values[i - 1]) + part);
}

/**
 * JSON for a terminal or a pipe: `JSON.stringify`, which leaves C1 controls, bidi controls and the
 * line separators raw inside strings, with each of those written as a `\uXXXX` escape. The same
 * JSON value, and nothing a terminal acts on.
 */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`.replace(
    UNSAFE_BUT_NEWLINE,
    // Each UTF-16 unit: a character past U+FFFF is a surrogate pair in JSON.
    (c) =>
      c
        .split("")
        .map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, "0")}`)
        .join(""),
  );
}
