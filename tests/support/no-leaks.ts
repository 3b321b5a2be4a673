// Suite-wide guard (vitest setupFiles): no test file may let a credential reach a log line. Every
// console call and every write to stdout/stderr in the test process is watched; a test file that
// printed the API key or a write key fails in its afterAll. Errors are checked by rejectionOf, and
// child processes (the provider server, mock programs) by the tests that run them.
import { afterAll, expect } from "vitest";
import { SECRETS } from "./fixtures";

const leaks: string[] = [];
const watch = (where: string, text: unknown) => {
  const s = typeof text === "string" ? text : Buffer.isBuffer(text) ? text.toString() : safeJson(text);
  for (const secret of SECRETS)
    if (s.includes(secret)) leaks.push(`${where}: ${s.replaceAll(secret, "<secret>").slice(0, 200)}`);
};
const safeJson = (v: unknown) => {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

for (const method of ["log", "info", "warn", "error", "debug", "trace"] as const) {
  const original = console[method].bind(console);
  console[method] = (...args: unknown[]) => {
    for (const a of args) watch(`console.${method}`, a instanceof Error ? `${a.message}\n${a.stack}` : a);
    original(...args);
  };
}
for (const [name, stream] of [
  ["stdout", process.stdout],
  ["stderr", process.stderr],
] as const) {
  const write = stream.write.bind(stream) as (...a: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    watch(name, chunk);
    return write(chunk, ...rest);
  }) as typeof stream.write;
}

afterAll(() => {
  expect(leaks, "credentials reached a log line").toEqual([]);
});
