// Issue 24: .github/workflows/release.yml. GitHub's schema is checked by action-validator (npm run
// lint:workflows, which this file shows can fail); here, what the schema cannot know: the workflow
// runs scripts that exist, uses the pinned Node.js, builds every target the build knows on a machine
// that can (darwin on macOS), tests on each platform's own runner, pins every action to a commit,
// and writes to the repository only in the job that attaches the tarballs.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { artifacts, REPO } from "./platforms/engine";

const FILE = join(REPO, ".github/workflows/release.yml");
const TEXT = readFileSync(FILE, "utf8");
const workflow = parse(TEXT);
const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
type Step = { uses?: string; run?: string; with?: Record<string, unknown>; name?: string };
const jobs = workflow.jobs as Record<
  string,
  { steps: Step[]; needs?: string | string[]; permissions?: object; strategy?: any }
>;
const steps = Object.values(jobs).flatMap((job) => job.steps);
const runs = steps.flatMap((s) => (s.run ? [s.run] : []));

/** The runner each target's executable is tested on. */
const RUNNER: Record<string, string> = {
  "linux-amd64": "ubuntu-24.04",
  "linux-arm64": "ubuntu-24.04-arm",
  "darwin-arm64": "macos-15",
  "darwin-amd64": "macos-15-intel",
  "windows-amd64": "windows-2025",
};

describe("the release workflow", () => {
  it("passes action-validator, which fails a workflow GitHub would reject", () => {
    const validator = join(REPO, "node_modules/.bin/action-validator");
    expect(spawnSync(validator, [FILE], { encoding: "utf8" }).status).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), "workflow-"));
    try {
      const broken = join(dir, "release.yml");
      writeFileSync(broken, TEXT.replace("    runs-on: ubuntu-24.04\n", "    runs_on: ubuntu-24.04\n"));
      const run = spawnSync(validator, [broken], { encoding: "utf8" });
      expect(run.status).toBe(1);
      expect(run.stdout + run.stderr).toContain("Additional property 'runs_on' is not allowed");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs on a v* tag, and by hand (everything but the release)", () => {
    expect(workflow.on).toEqual({ push: { tags: ["v*"] }, workflow_dispatch: {} });
    expect(jobs.release!.needs).toBe("test");
    expect((jobs.release as { if?: string }).if).toBe("startsWith(github.ref, 'refs/tags/')");
  });

  it("runs only npm scripts and files that exist", () => {
    const scripts = runs.flatMap((r) => [...r.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!));
    expect(scripts).toContain("release:build");
    for (const script of scripts) expect(pkg.scripts, script).toHaveProperty(script);
    const files = runs.flatMap((r) =>
      [...r.matchAll(/\b((?:scripts|tests)\/[\w/.-]+\.(?:mjs|mts|ts))\b/g)].map((m) => m[1]!),
    );
    expect(files).toContain("tests/platforms/native.test.ts");
    for (const file of files) expect(existsSync(join(REPO, file)), file).toBe(true);
  });

  it("sets up the Node.js the executables embed, from the one file that pins it", () => {
    const setups = steps.filter((s) => s.uses?.startsWith("actions/setup-node@"));
    expect(setups.length).toBe(Object.keys(jobs).length);
    for (const setup of setups) expect(setup.with).toEqual({ "node-version-file": "scripts/release/node-version" });
  });

  it("pins every action to a commit, with its version beside it", () => {
    const uses = [...TEXT.matchAll(/uses: (\S+)@(\S+)(.*)/g)];
    expect(uses.length).toBeGreaterThan(8);
    for (const [line, , ref, comment] of uses) {
      expect(ref, line).toMatch(/^[0-9a-f]{40}$/);
      expect(comment, line).toMatch(/^ # v\d+\.\d+\.\d+$/);
    }
  });

  it("builds every target: linux and windows with release:build's defaults, darwin on macOS runners", async () => {
    const { CROSS_TARGETS, TARGETS } = await artifacts();
    const darwin = jobs["build-darwin"]!.strategy.matrix.include as { runner: string; target: string }[];
    expect(darwin.every((d) => d.runner.startsWith("macos-"))).toBe(true);
    expect([...CROSS_TARGETS, ...darwin.map((d) => d.target)].sort()).toEqual(Object.keys(TARGETS).sort());
    expect(jobs.build!.steps.map((s) => s.run)).toContain("npm run release:build");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not JavaScript's
    const perTarget = "npm run release:build -- --targets ${{ matrix.target }}";
    expect(jobs["build-darwin"]!.steps.map((s) => s.run)).toContain(perTarget);
    for (const { runner, target } of darwin) expect(RUNNER[target]).toBe(runner);
  });

  it("tests each target's executable on its own platform's runner, after every build", async () => {
    const { TARGETS } = await artifacts();
    expect(jobs.test!.needs).toEqual(["build", "build-darwin"]);
    expect([...jobs.test!.strategy.matrix.runner].sort()).toEqual(
      Object.keys(TARGETS)
        .map((t) => RUNNER[t])
        .sort(),
    );
    expect(jobs.test!.strategy["fail-fast"]).toBe(false);
  });

  it("reads the repository everywhere and writes to it only to attach the tarballs and SHA256SUMS", () => {
    expect(workflow.permissions).toEqual({ contents: "read" });
    for (const [name, job] of Object.entries(jobs)) {
      expect(job.permissions, name).toEqual(name === "release" ? { contents: "write" } : undefined);
    }
    const attach = jobs.release!.steps.at(-1)!.run!;
    expect(attach).toMatch(
      /^gh release create "\$GITHUB_REF_NAME" release\/\*\.tar\.gz release\/SHA256SUMS --verify-tag /,
    );
  });
});
