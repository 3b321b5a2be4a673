// Suite-wide (vitest globalSetup): the run gets a temp directory of its own (TMPDIR, inherited by
// every worker and child process), and fails if anything is left in it at the end. So a test that
// creates files must remove them, also when it fails, and a run leaves the system's temp
// directory as it found it.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function setup() {
  const dir = mkdtempSync(join(tmpdir(), "sendgrid-segment-tests-"));
  process.env.TMPDIR = dir;
  return () => {
    const left = readdirSync(dir);
    rmSync(dir, { recursive: true, force: true });
    if (left.length > 0) {
      throw new Error(`the tests left ${left.length} entries in the temp directory: ${left.sort().join(", ")}`);
    }
  };
}
