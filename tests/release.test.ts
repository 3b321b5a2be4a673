// Issue 24 and 25: the release build's parts (scripts/release/artifacts.mjs), each on its own and
// quickly; the artifacts themselves are run by plugin-executable.test.ts (this machine's) and
// `npm run test:platforms` (every platform's, and the build's reproducibility).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { artifacts, REPO } from "./platforms/engine";

const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));

describe("the schema's pluginDownloadURL, from package.json's repository", () => {
  it.each([
    [undefined, undefined],
    ["https://github.com/acme/pulumi-sendgrid-segment", "github://api.github.com/acme"],
    [{ type: "git", url: "git+https://github.com/acme/pulumi-sendgrid-segment.git" }, "github://api.github.com/acme"],
    ["git+ssh://git@github.com/acme/pulumi-sendgrid-segment.git", "github://api.github.com/acme"],
    ["github:acme/pulumi-sendgrid-segment", "github://api.github.com/acme"],
    ["acme/pulumi-sendgrid-segment", "github://api.github.com/acme"],
    // Not named pulumi-<plugin>: the engine's github source takes the repository as a second part.
    ["https://github.com/acme/sendgrid-tools", "github://api.github.com/acme/sendgrid-tools"],
  ])("%j → %s", async (repository, url) => {
    const { pluginDownloadURL } = await artifacts();
    expect(pluginDownloadURL({ ...pkg, repository })).toBe(url);
  });

  it("a repository elsewhere is an error that says how to set the URL", async () => {
    const { pluginDownloadURL } = await artifacts();
    expect(() => pluginDownloadURL({ repository: "https://gitlab.com/acme/pulumi-sendgrid-segment" })).toThrow(
      "package.json's repository (https://gitlab.com/acme/pulumi-sendgrid-segment) is not a GitHub repository: pass --plugin-download-url <url> to say where releases live",
    );
  });

  it("package.json names no repository yet, so builds carry none (the README's --file path)", async () => {
    const { pluginDownloadURL } = await artifacts();
    expect(pkg.repository).toBeUndefined();
    expect(pluginDownloadURL(pkg)).toBeUndefined();
  });
});

describe("the files' timestamps", () => {
  it("are SOURCE_DATE_EPOCH's, else the last commit's", async () => {
    const { sourceDateEpoch } = await artifacts();
    expect(sourceDateEpoch(REPO, { SOURCE_DATE_EPOCH: "1700000000" })).toBe(1700000000);
    const commit = spawnSync("git", ["-C", REPO, "log", "-1", "--format=%ct"], { encoding: "utf8" }).stdout.trim();
    expect(sourceDateEpoch(REPO, {})).toBe(Number(commit));
    expect(() => sourceDateEpoch(REPO, { SOURCE_DATE_EPOCH: "yesterday" })).toThrow(
      "SOURCE_DATE_EPOCH must be whole seconds",
    );
    const notGit = mkdtempSync(join(tmpdir(), "not-git-"));
    try {
      expect(() => sourceDateEpoch(notGit, {})).toThrow("not a git checkout: set SOURCE_DATE_EPOCH");
    } finally {
      rmSync(notGit, { recursive: true, force: true });
    }
  });
});

describe("tarGz", () => {
  const files: [string, number, string][] = [
    ["b", 0o755, "run me"],
    ["a", 0o644, "read me"],
  ];

  it("depends only on the files and the time: order and the moment of building do not matter", async () => {
    const { tarGz } = await artifacts();
    const one = await tarGz(files, 1_700_000_000);
    const two = await tarGz([...files].reverse(), 1_700_000_000);
    expect(one.equals(two)).toBe(true);
    expect(one.equals(await tarGz(files, 1_700_000_001))).toBe(false);
  });

  it("writes sorted entries with the given modes, owner 0:0 without names and the given mtime", async () => {
    const { tarGz, untarGz } = await artifacts();
    const entries = await untarGz(await tarGz(files, 1_700_000_000));
    expect(
      [...entries].map(([name, { header, data }]) => [
        name,
        header.mode,
        header.uid,
        header.gid,
        header.uname,
        header.gname,
        header.mtime?.toISOString(),
        String(data),
      ]),
    ).toEqual([
      ["a", 0o644, 0, 0, "", "", "2023-11-14T22:13:20.000Z", "read me"],
      ["b", 0o755, 0, 0, "", "", "2023-11-14T22:13:20.000Z", "run me"],
    ]);
  });

  it("is a gzip stream without a timestamp that GNU tar reads", async () => {
    const { tarGz } = await artifacts();
    const dir = mkdtempSync(join(tmpdir(), "targz-"));
    try {
      const bytes = await tarGz(files, 1_700_000_000);
      expect(bytes.readUInt32LE(4)).toBe(0);
      writeFileSync(join(dir, "x.tar.gz"), bytes);
      const listing = spawnSync("tar", ["-tvzf", "x.tar.gz"], { cwd: dir, encoding: "utf8" });
      expect(listing.stdout).toMatch(
        /^-rw-r--r-- 0\/0 +7 2023-11-14 22:13 a\n-rwxr-xr-x 0\/0 +6 2023-11-14 22:13 b\n$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("SHA256SUMS", () => {
  it("is sha256sum's format, sorted by name; `release-build.mjs --sums` writes it for a folder, and sha256sum -c agrees", () => {
    const dir = mkdtempSync(join(tmpdir(), "sums-"));
    try {
      writeFileSync(join(dir, "b.tar.gz"), "second");
      writeFileSync(join(dir, "a.tar.gz"), "first");
      writeFileSync(join(dir, "notes.txt"), "not a tarball");
      const run = spawnSync(process.execPath, [join(REPO, "scripts/release-build.mjs"), "--sums", dir], {
        encoding: "utf8",
      });
      expect(run.stdout).toBe(`${join(dir, "SHA256SUMS")} (2 tarballs)\n`);
      expect(readFileSync(join(dir, "SHA256SUMS"), "utf8")).toBe(
        "a7937b64b8caa58f03721bb6bacf5c78cb235febe0e70b1b84cd99541461a08e  a.tar.gz\n" +
          "16367aacb67a4a017c8da8ab95682ccb390863780f7114dda0a0e0c55644c7c4  b.tar.gz\n",
      );
      expect(spawnSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: dir, encoding: "utf8" }).stdout).toBe(
        "a.tar.gz: OK\nb.tar.gz: OK\n",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("withoutAuthenticode", () => {
  /** A PE32+ file's headers, with a certificate table of `cert` bytes at its end. */
  const pe = (cert: number, magic = 0x20b) => {
    const file = Buffer.alloc(0x200 + cert);
    file.write("MZ", 0, "latin1");
    file.writeUInt32LE(0x40, 0x3c);
    file.write("PE\0\0", 0x40, "latin1");
    file.writeUInt16LE(magic, 0x40 + 24);
    if (cert) {
      file.writeUInt32LE(0x200, 0x40 + 24 + 112 + 32);
      file.writeUInt32LE(cert, 0x40 + 24 + 112 + 36);
      file.fill(7, 0x200);
    }
    return file;
  };

  it("cuts the certificate table off and zeroes its directory entry", async () => {
    const { withoutAuthenticode } = await artifacts();
    const stripped = withoutAuthenticode(pe(64));
    expect(stripped.length).toBe(0x200);
    expect(stripped.readUInt32LE(0x40 + 24 + 112 + 32)).toBe(0);
    expect(stripped.readUInt32LE(0x40 + 24 + 112 + 36)).toBe(0);
    expect(stripped.equals(pe(0))).toBe(true);
  });

  it("leaves an unsigned file as it is, and refuses what it does not understand", async () => {
    const { withoutAuthenticode } = await artifacts();
    expect(withoutAuthenticode(pe(0)).equals(pe(0))).toBe(true);
    expect(() => withoutAuthenticode(pe(0, 0x999))).toThrow("unknown PE optional header magic 0x999");
    const notAtEnd = Buffer.concat([pe(64), Buffer.alloc(8)]);
    expect(() => withoutAuthenticode(notAtEnd)).toThrow("the PE certificate table is not at the end of the file");
    const elf = Buffer.alloc(0x200);
    expect(() => withoutAuthenticode(elf)).toThrow("not a PE executable");
  });
});

describe("the universal tarball's launchers", () => {
  it("name the Node.js major of package.json's engines, the .cmd with Windows line ends", async () => {
    const { launchers } = await artifacts();
    const major = Number(/\d+/.exec(pkg.engines.node)![0]);
    const files = new Map(launchers(major).map(([name, mode, text]) => [name, { mode, text }]));
    expect([...files.keys()]).toEqual([
      "pulumi-resource-sendgrid-segment",
      "pulumi-resource-sendgrid-segment.cmd",
      "pulumi-resource-sendgrid-segment.cjs",
    ]);
    for (const { text } of files.values()) expect(text).not.toContain("@NODE_MAJOR@");
    expect(files.get("pulumi-resource-sendgrid-segment")!.text).toContain(`needs Node.js ${major} or newer on PATH`);
    expect(files.get("pulumi-resource-sendgrid-segment.cmd")!.text).toContain(
      `needs Node.js ${major} or newer on PATH`,
    );
    expect(files.get("pulumi-resource-sendgrid-segment.cjs")!.text).toContain(`const needed = Number("${major}");`);
    expect(files.get("pulumi-resource-sendgrid-segment")!.mode).toBe(0o755);
    expect(
      files
        .get("pulumi-resource-sendgrid-segment.cmd")!
        .text.split("\r\n")
        .every((l) => !l.includes("\n")),
    ).toBe(true);
    expect(spawnSync("sh", ["-n", "-c", files.get("pulumi-resource-sendgrid-segment")!.text]).status).toBe(0);
  });
});
