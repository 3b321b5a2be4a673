// The release build is reproducible (issue 25): a second build, from a copy of these sources in
// another folder (its node_modules the same packages, hard-linked), run from another working
// directory with another TMPDIR and umask, and SOURCE_DATE_EPOCH set to the time the first build
// took from git, writes the same bytes as dist/release (what `npm run test:platforms` built just
// before). No artifact holds either folder's path; every tarball entry has a fixed owner, mode and
// mtime; SHA256SUMS passes `sha256sum -c`.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { artifacts, REPO } from "./engine";

const RELEASE = resolve(process.env.RELEASE_DIR ?? join(REPO, "dist/release"));
let work: string;
let copy: string;
let second: string;
let epoch: number;

beforeAll(async () => {
  const { sourceDateEpoch } = await artifacts();
  epoch = sourceDateEpoch(REPO, {});
  work = mkdtempSync(join(tmpdir(), "reproducible-"));
  copy = join(work, "elsewhere", "pulumi-sendgrid-segment");
  second = join(work, "second-build");
  // The sources as a clone has them (tracked and new files, nothing ignored), and the same packages.
  const files = execFileSync("git", ["-C", REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    encoding: "utf8",
  })
    .split("\0")
    .filter(Boolean);
  for (const file of files) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    try {
      copyFileSync(join(REPO, file), join(copy, file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error; // deleted, not yet committed
    }
  }
  execFileSync("cp", ["-al", join(REPO, "node_modules"), join(copy, "node_modules")]);
  const otherTmp = join(work, "tmp");
  mkdirSync(otherTmp);
  const build = spawnSync(
    "/bin/sh",
    ["-c", 'umask 077; exec "$0" "$@"', process.execPath, join(copy, "scripts/release-build.mjs"), "--out", second],
    {
      cwd: otherTmp,
      env: { PATH: process.env.PATH ?? "", HOME: otherTmp, TMPDIR: otherTmp, SOURCE_DATE_EPOCH: String(epoch) },
      encoding: "utf8",
    },
  );
  if (build.status !== 0) throw new Error(`the second build failed:\n${build.stdout}${build.stderr}`);
}, 600_000);
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("two builds in different folders", () => {
  it("write the same files, byte for byte", () => {
    const names = readdirSync(RELEASE).sort();
    expect(names).toContain("SHA256SUMS");
    expect(readdirSync(second).sort()).toEqual(names);
    for (const name of names) {
      expect(readFileSync(join(second, name)).equals(readFileSync(join(RELEASE, name))), name).toBe(true);
    }
  });

  it("and no file inside any tarball holds the path of either folder", async () => {
    const { untarGz } = await artifacts();
    for (const name of readdirSync(second).filter((f) => f.endsWith(".tar.gz"))) {
      for (const [entry, { data }] of await untarGz(readFileSync(join(second, name)))) {
        for (const folder of [REPO, copy, work]) expect(data.includes(folder), `${name}: ${entry}`).toBe(false);
      }
    }
  });
});

describe("the tarballs", () => {
  it("hold files only, sorted, owned by 0:0 without names, with the commit's time and 644 or 755", async () => {
    const { untarGz } = await artifacts();
    for (const name of readdirSync(RELEASE).filter((f) => f.endsWith(".tar.gz"))) {
      const entries = await untarGz(readFileSync(join(RELEASE, name)));
      expect([...entries.keys()], name).toEqual([...entries.keys()].sort());
      for (const [entry, { header }] of entries) {
        const runnable = /^pulumi-resource-sendgrid-segment(\.exe)?$/.test(entry);
        expect(
          { type: header.type, uid: header.uid, gid: header.gid, uname: header.uname, gname: header.gname },
          `${name}: ${entry}`,
        ).toEqual({ type: "file", uid: 0, gid: 0, uname: "", gname: "" });
        expect(header.mtime?.getTime(), `${name}: ${entry}`).toBe(epoch * 1000);
        expect(header.mode, `${name}: ${entry}`).toBe(runnable ? 0o755 : 0o644);
      }
    }
  });

  it("are gzip without a timestamp or file name in the header", () => {
    for (const name of readdirSync(RELEASE).filter((f) => f.endsWith(".tar.gz"))) {
      const header = readFileSync(join(RELEASE, name)).subarray(0, 10);
      expect([...header.subarray(0, 4)], name).toEqual([0x1f, 0x8b, 8, 0]); // deflate, no FNAME/FCOMMENT/FEXTRA
      expect(header.readUInt32LE(4), name).toBe(0); // MTIME
    }
  });

  it("pass sha256sum -c SHA256SUMS", () => {
    const check = spawnSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: RELEASE, encoding: "utf8" });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(check.stdout.trim().split("\n").length).toBe(
      readdirSync(RELEASE).filter((f) => f.endsWith(".tar.gz")).length,
    );
  });
});
