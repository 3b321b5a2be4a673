// Helpers for the layers that run real programs: under setMocks (layer 3) and against the real
// dynamic-provider gRPC server (layer 4).
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

import { ROOT_INTEGRATIONS, rootProgramSettings } from "./fixtures";

export const REPO = resolve(__dirname, "../..");
const HARNESS = join(__dirname, "mock-program.cjs");

export interface Registration {
  type: string;
  name: string;
  custom: boolean;
  inputs: Record<string, any>;
  additionalSecretOutputs: string[];
  provider?: string;
}

export interface ProgramRun {
  registered: Registration[];
  outputs: Record<string, any> | null;
  error?: string;
}

export interface ProgramSettings {
  project?: string;
  stack?: string;
  config?: Record<string, string>;
  secretKeys?: string[];
  preview?: boolean;
  stackReferences?: Record<string, { outputs: Record<string, unknown>; secretOutputNames?: string[] }>;
  /** Node binary to run the program with (default: this one). */
  node?: string;
}

/** Run a program file under pulumi.runtime.setMocks in a fresh node process. */
export async function runProgram(programFile: string, settings: ProgramSettings = {}): Promise<ProgramRun> {
  const child = execFile(settings.node ?? process.execPath, [HARNESS, programFile], { maxBuffer: 64 * 1024 * 1024 });
  child.stdin!.end(JSON.stringify(settings));
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  await new Promise((r) => child.once("close", r));
  try {
    return JSON.parse(stdout) as ProgramRun;
  } catch {
    throw new Error(`mock run of ${programFile} printed no result.\nstdout: ${stdout}\nstderr: ${stderr}`);
  }
}

/**
 * A throwaway consumer project holding an example program, whose node_modules links this repository
 * as `pulumi-sendgrid-segment` (like `npm link`) next to this repository's own @pulumi/pulumi, so
 * that exactly one SDK instance is loaded. The packed-tarball install is tested separately.
 */
export function linkedConsumer(exampleDir: string): { dir: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "sendgrid-consumer-"));
  // Not the example's own node_modules (a user may have run `npm install` there): links replace it.
  cpSync(exampleDir, dir, { recursive: true, filter: (source) => !source.includes(`${exampleDir}/node_modules`) });
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(REPO, join(dir, "node_modules", "pulumi-sendgrid-segment"), "dir");
  for (const dep of ["@pulumi/pulumi", "@types/node", "typescript", "ts-node", "@grpc/grpc-js", "google-protobuf"]) {
    mkdirSync(dirname(join(dir, "node_modules", dep)), { recursive: true });
    symlinkSync(join(REPO, "node_modules", dep), join(dir, "node_modules", dep), "dir");
  }
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The `__provider` the root program really serializes, as the engine receives it in every request. */
export async function rootProgramProvider(): Promise<string> {
  const run = await runProgram(join(REPO, "index.ts"), rootProgramSettings(ROOT_INTEGRATIONS));
  const provider = run.registered.find((r) => r.name === "prod-events")?.provider;
  if (!provider) throw new Error(`the root program registered no prod-events provider: ${run.error ?? ""}`);
  return provider;
}
