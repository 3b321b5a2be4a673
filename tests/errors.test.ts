// Error messages: secrets redacted whole and in part before any cut; every message one bounded line.
import { describe, expect, it, vi } from "vitest";
import {
  AmbiguousCreateError,
  ApiError,
  ConfigurationError,
  clip,
  during,
  isNotFound,
  ListRouteError,
  MAX_MESSAGE_LENGTH,
  RequestError,
  redact,
  SendGridError,
} from "../provider/errors";
import { assertReadableState } from "../provider/state";
import { API_KEY, expectNoSecretPart, WRITE_KEY } from "./support/fixtures";

describe("redact", () => {
  it("replaces every whole occurrence of each secret", () => {
    expect(redact(`a ${WRITE_KEY} b ${WRITE_KEY} c ${API_KEY}`, [WRITE_KEY, API_KEY])).toBe(
      "a [redacted] b [redacted] c [redacted]",
    );
  });

  it("replaces any run of 6 or more characters of a secret (an echoed or cut-off key)", () => {
    const prefix = WRITE_KEY.slice(0, 10);
    const middle = WRITE_KEY.slice(5, 11);
    expect(redact(`key=${prefix}…`, [WRITE_KEY])).toBe("key=[redacted]…");
    expect(redact(`x${middle}y`, [WRITE_KEY])).toBe("x[redacted]y");
  });

  it("leaves runs of 5 characters, short secrets and unrelated text alone", () => {
    expect(redact(`${WRITE_KEY.slice(0, 5)} and more`, [WRITE_KEY])).toBe(`${WRITE_KEY.slice(0, 5)} and more`);
    expect(redact("abc abc", ["abc", undefined, ""])).toBe("abc abc");
  });

  it("redacts a 4- or 5-character secret whole", () => {
    expect(redact("pin 1234 here", ["1234"])).toBe("pin [redacted] here");
  });
});

describe("during", () => {
  it("says the operation first, and redacts again what the caller knows (a shared listing redacted only the first reader's keys)", () => {
    const shared = new RequestError("list", "SendGrid integrations", `echoed ${WRITE_KEY} back`, []);
    const error = during(shared, "read SendGrid Segment integration x1", "listing the account", [WRITE_KEY]);
    expect(error.message).toBe(
      "Unable to read SendGrid Segment integration x1: listing the account failed: echoed [redacted] back",
    );
    expect(error).toBeInstanceOf(RequestError);
    expect(shared.message).toContain(WRITE_KEY.slice(3, 12)); // the shared one is left as it was
    expect(during(shared, "read x", "listing").message).toContain(WRITE_KEY.slice(3, 12)); // nothing known, nothing redacted
  });

  it("an error that is not the provider's own (a bug) passes through as it is", () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'id')");
    expect(during(bug, "read x", "listing the account")).toBe(bug);
    expect(bug.message).toBe("Cannot read properties of undefined (reading 'id')");
  });

  it("only the step's own leading 'Unable to ...: ' is dropped, never one further in", () => {
    const setting = new ConfigurationError("The apiBaseUrl setting is wrong. Unable to list integrations: HTTP 404");
    expect(during(setting, "read x", "listing the account").message).toBe(
      "Unable to read x: listing the account failed: The apiBaseUrl setting is wrong. Unable to list integrations: HTTP 404",
    );
  });

  it("the copy's stack shows its class and new message, and both can be rewritten like any error's", () => {
    const error = during(new RequestError("list", "integrations", "socket hang up", []), "read x", "listing");
    expect(error.stack).toBe("RequestError: Unable to read x: listing failed: socket hang up");
    error.message += " (at 09:00)";
    error.stack = `RequestError: ${error.message}`;
    expect(error.message).toBe("Unable to read x: listing failed: socket hang up (at 09:00)");
    expect(error.stack).toBe("RequestError: Unable to read x: listing failed: socket hang up (at 09:00)");
    expect(delete (error as { message?: string }).message).toBe(true);
    expect(delete (error as { stack?: string }).stack).toBe(true);
    expect(Object.hasOwn(error, "message")).toBe(false);
  });
});

describe("clip", () => {
  it("keeps short text and cuts long text to the limit, marking the cut", () => {
    expect(clip("abc", 3)).toBe("abc");
    expect(clip("abcd", 3)).toBe("ab…");
    expect(clip("abcd", 3)).toHaveLength(3);
  });
});

describe("every error is one bounded line", () => {
  it("control characters become spaces", () => {
    expect(new SendGridError("a\nb\r\n\tc", "X").message).toBe("a b c");
  });

  it("a message longer than the limit is cut to MAX_MESSAGE_LENGTH", () => {
    const error = new SendGridError("x".repeat(5000), "X");
    expect(error.message).toHaveLength(MAX_MESSAGE_LENGTH);
    expect(error.message.endsWith("…")).toBe(true);
  });

  it("redaction happens before the cut, so a key across the cut shows no part", () => {
    const message = `${"x".repeat(MAX_MESSAGE_LENGTH - 8)}${WRITE_KEY}`;
    const error = new SendGridError(message, "X", [WRITE_KEY]);
    expectNoSecretPart(error.message);
    expect(error.message).toContain("[redac");
  });

  it("ApiError keeps the first 3 of thousands of errors, says how many were left out, and stays bounded", () => {
    const long = "y".repeat(1000); // about 6 MB in all
    const body = {
      errors: Array.from({ length: 2000 }, (_, i) => ({ message: `m${i} ${long}`, field: long, parameter: long })),
    };
    const error = new ApiError("create", 'SendGrid Segment integration "a"', 400, JSON.stringify(body), [], "");
    expect(error.message.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
    expect(error.message).toContain("(and 1997 more errors)");
    expect(error.details).toHaveLength(3);
    expect(error.omitted).toBe(1997);
    expect(error.message).toMatch(/^Unable to create SendGrid Segment integration "a": HTTP 400 Bad Request: m0 y+…/);
  });

  it("ApiError says 'error' for one left out, and keeps the hint when SendGrid's text is long", () => {
    const body = { errors: [{ message: "a" }, { message: "b" }, { message: "c" }, { message: "d".repeat(5000) }] };
    const error = new ApiError("read", "X", 401, body, []);
    expect(error.message).toContain("(and 1 more error)");
    expect(error.message).toMatch(
      /SendGrid refused the API key \(the apiKey setting or SENDGRID_API_KEY\): it may be mistyped, revoked or deleted, or belong to the other region \(an EU account's key works only with region "eu", api\.eu\.sendgrid\.com; any other only with "global"\)$/,
    );
  });

  it("a 401 names the key's setting, the region and the host the request went to (issue 23)", () => {
    const advice = {
      apiKey: "SENDGRID_API_KEY",
      apiBaseUrl: "sendgrid:apiBaseUrl or SENDGRID_API_BASE_URL",
      region: "sendgrid:region or SENDGRID_REGION",
      regionName: "global",
      host: "api.sendgrid.com",
      baseUrl: "https://api.sendgrid.com",
    };
    const error = new ApiError(
      "list",
      "SendGrid integrations",
      401,
      { errors: [{ message: "authorization required" }] },
      [],
      "",
      advice,
    );
    expect(error.message).toBe(
      "Unable to list SendGrid integrations: HTTP 401 Unauthorized: authorization required. SendGrid refused the API key " +
        "(SENDGRID_API_KEY): it may be mistyped, revoked or deleted, or belong to the other region (an EU account's key " +
        'works only with region "eu", api.eu.sendgrid.com; any other only with "global"); this request went to ' +
        "api.sendgrid.com (region global: sendgrid:region or SENDGRID_REGION)",
    );
  });

  it("ApiError redacts echoed secrets in message, field and parameter, whole and in part", () => {
    const body = {
      errors: [
        { message: `bad key ${API_KEY}`, field: WRITE_KEY },
        { message: "cut", parameter: WRITE_KEY.slice(0, 12) },
      ],
    };
    const error = new ApiError("delete", "X", 400, Buffer.from(JSON.stringify(body)), [API_KEY, WRITE_KEY]);
    expectNoSecretPart(error.message);
    expect(error.message).toBe(
      'Unable to delete X: HTTP 400 Bad Request: bad key [redacted] (field "[redacted]"); cut (field "[redacted]")',
    );
  });

  it("a body that is not SendGrid's error shape gives the status alone", () => {
    expect(new ApiError("read", "X", 502, "<html>bad gateway</html>", []).message).toBe(
      "Unable to read X: HTTP 502 Bad Gateway",
    );
    expect(new ApiError("read", "X", 418, { errors: "nope" }, []).message).toBe("Unable to read X: HTTP 418");
  });

  it("a body that is not SendGrid's error shape has no details", () => {
    for (const body of ["<html>bad gateway</html>", { errors: "nope" }, null]) {
      const error = new ApiError("read", "X", 502, body, []);
      expect(error.details, JSON.stringify(body)).toEqual([]);
      expect(error.omitted).toBe(0);
    }
    expect(new ApiError("read", "X", 400, { errors: [{ field: "label" }] }, []).details).toEqual([
      { message: "", field: "label" },
    ]);
  });

  it("names the statuses SendGrid answers", () => {
    const text = (status: number) => new ApiError("read", "X", status, "", []).message;
    expect(text(405)).toBe("Unable to read X: HTTP 405 Method Not Allowed");
    expect(text(429)).toBe("Unable to read X: HTTP 429 Too Many Requests");
    expect(text(504)).toBe("Unable to read X: HTTP 504 Gateway Timeout");
  });

  it("a 403 blames the limit only on create; elsewhere only the key's scope", () => {
    expect(new ApiError("read", "X", 403, "", []).message).toBe(
      "Unable to read X: HTTP 403 Forbidden. The API key may lack the marketing integrations scope",
    );
    expect(new ApiError("create", "X", 403, "", []).message).toBe(
      "Unable to create X: HTTP 403 Forbidden. The account may be at its limit of 10 Segment integrations, or the API key lacks the marketing integrations scope",
    );
  });

  it("RequestError and AmbiguousCreateError redact what they are given", () => {
    expectNoSecretPart(new RequestError("create", "X", `reset near ${WRITE_KEY}`, [WRITE_KEY]).message);
    const ambiguous = new AmbiguousCreateError(`lost ${WRITE_KEY.slice(2)}`, ["id1"], [WRITE_KEY]);
    expect(ambiguous.message).toBe("lost [redacted]");
    expect(ambiguous.code).toBe("ERR_SENDGRID_AMBIGUOUS_CREATE");
  });
});

describe("a missing list route", () => {
  it("is a configuration error that keeps the setting to fix beside its message, redacted", () => {
    const fix = "Check apiBaseUrl (the API's root, e.g. https://api.sendgrid.com)";
    const error = new ListRouteError(`Unable to list integrations: HTTP 404 (key ${API_KEY}). ${fix}`, fix, [API_KEY]);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.code).toBe("ERR_SENDGRID_CONFIG");
    expect(error.name).toBe("ListRouteError");
    expect(error.message).toBe(`Unable to list integrations: HTTP 404 (key [redacted]). ${fix}`);
    expect(error.fix).toBe(fix);
  });
});

describe("only SendGrid's own 404 means gone", () => {
  const notFound = (body: unknown) => new ApiError("read", "SendGrid Segment integration x1", 404, body, []);

  it.each([
    ["its JSON error shape", '{"errors":[{"message":"integration does not exist"}]}'],
    ["its shape with a field", { errors: [{ message: "not found", field: null }] }],
    ["several errors", { errors: [{ message: "a" }, { message: "b", field: "id" }] }],
  ])("%s: gone", (_, body) => {
    const error = notFound(body);
    expect(error.fromSendGrid).toBe(true);
    expect(isNotFound(error)).toBe(true);
    expect(error.message).not.toContain("not a SendGrid error");
  });

  it.each([
    ["an HTML page", "<html><body><h1>404 Not Found</h1></body></html>", ""],
    ["other JSON", '{"message":"no Route matched with those values"}', ""],
    ["an empty errors list", { errors: [] }, ""],
    ["errors without messages", { errors: [{ field: "id" }] }, ': field "id"'],
    ["a message that is not text", { errors: [{ message: 404 }] }, ": 404"],
    ["a list with something else in it", { errors: [{ message: "a" }, "b"] }, ": a"],
    ["nothing", "", ""],
    ["null", null, ""],
  ])("%s: not gone, and the message says why nothing was changed", (_, body, detail) => {
    const error = notFound(body);
    expect(error.fromSendGrid).toBe(false);
    expect(isNotFound(error)).toBe(false);
    expect(error.message).toBe(
      `Unable to read SendGrid Segment integration x1: HTTP 404 Not Found${detail}. The answer is not a SendGrid error ` +
        "(a proxy, or a wrong apiBaseUrl setting?), so it does not show the integration is gone; nothing was changed",
    );
  });

  it("other statuses are never 'gone', whatever their body", () => {
    for (const status of [400, 403, 410, 500]) {
      expect(isNotFound(new ApiError("read", "x", status, { errors: [{ message: "m" }] }, []))).toBe(false);
    }
    expect(isNotFound(new Error("404"))).toBe(false);
  });
});

describe("text from an answer in an error", () => {
  it("reads as it is: bidi controls, zero-width and separator characters become visible escapes (issue 25)", () => {
    const body = { errors: [{ message: "fine\u202e.exe\u200b x\u2028y \u{e0041}" }] };
    const error = new ApiError("read", "X", 400, body, []);
    expect(error.message).toBe("Unable to read X: HTTP 400 Bad Request: fine\\u202e.exe\\u200b x\\u2028y \\u{e0041}");
  });

  it("an invisible character below U+1000 (a soft hyphen, an Arabic letter mark) shows as a full four-digit escape", () => {
    const error = new ApiError("read", "X", 400, { errors: [{ message: "pay\u00adload \u061cx" }] }, []);
    expect(error.message).toBe("Unable to read X: HTTP 400 Bad Request: pay\\u00adload \\u061cx");
  });
});

describe("state versions", () => {
  it.each([undefined, 1, 2, 3])("state version %s is readable", (stateVersion) => {
    expect(() => assertReadableState({ stateVersion }, "read X")).not.toThrow();
    expect(() => assertReadableState({}, "read X")).not.toThrow();
  });

  it.each([4, 99, 0, -1, 1.5, "2", null, [2]])("state version %j is refused, naming the upgrade", (stateVersion) => {
    let error: (Error & { code?: string }) | undefined;
    try {
      assertReadableState({ stateVersion }, "update SendGrid Segment integration x1");
    } catch (e) {
      error = e as Error;
    }
    expect(error?.code).toBe("ERR_SENDGRID_STATE_VERSION");
    expect(error?.message).toMatch(
      /^Unable to update SendGrid Segment integration x1: its state was written by a newer pulumi-sendgrid-segment \(state version .+; \S+ reads up to 3\)\. Upgrade pulumi-sendgrid-segment in this program; nothing was changed$/,
    );
    expect(error?.message).toContain(`state version ${JSON.stringify(stateVersion)};`);
  });
});

// What the module defines as it loads (the status names, the redaction mark, the helpers built as
// constants): loaded afresh inside each test, so the test reads what that load made.
describe("what an error message is made from, as the module loads", () => {
  const fresh = async () => {
    vi.resetModules();
    return import("../provider/errors.js");
  };

  it("names every status SendGrid or a gateway answers with, and only the number for others", async () => {
    const { ApiError } = await fresh();
    const statusLine = (status: number) => new ApiError("read", "X", status, "", []).message.split(". ")[0];
    expect([400, 401, 403, 404, 405, 418, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524].map(statusLine)).toEqual([
      "Unable to read X: HTTP 400 Bad Request",
      "Unable to read X: HTTP 401 Unauthorized",
      "Unable to read X: HTTP 403 Forbidden",
      "Unable to read X: HTTP 404 Not Found",
      "Unable to read X: HTTP 405 Method Not Allowed",
      "Unable to read X: HTTP 418",
      "Unable to read X: HTTP 429 Too Many Requests",
      "Unable to read X: HTTP 500 Internal Server Error",
      "Unable to read X: HTTP 502 Bad Gateway",
      "Unable to read X: HTTP 503 Service Unavailable",
      "Unable to read X: HTTP 504 Gateway Timeout",
      "Unable to read X: HTTP 520 Unknown Error (a gateway)",
      "Unable to read X: HTTP 521 Web Server Is Down (a gateway)",
      "Unable to read X: HTTP 522 Connection Timed Out (a gateway)",
      "Unable to read X: HTTP 523 Origin Is Unreachable (a gateway)",
      "Unable to read X: HTTP 524 A Timeout Occurred (a gateway)",
    ]);
  });

  it("SendGrid's own 404 means gone", async () => {
    const { ApiError, isNotFound } = await fresh();
    expect(isNotFound(new ApiError("read", "x1", 404, { errors: [{ message: "not found" }] }, []))).toBe(true);
  });

  it("a secret shows as [redacted], in a message made one line", async () => {
    const { redact, SendGridError } = await fresh();
    expect(redact(`key ${WRITE_KEY}`, [WRITE_KEY])).toBe("key [redacted]");
    expect(new SendGridError(`bad\nkey ${WRITE_KEY}`, "X", [WRITE_KEY]).message).toBe("bad key [redacted]");
  });
});
