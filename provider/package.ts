/** This package's name and version, read from its package.json (found upward from this file). */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

export const PACKAGE_NAME = "pulumi-sendgrid-segment";

function readVersion(): string {
  for (let dir = __dirname, i = 0; i < 4; dir = dirname(dir), i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      if (pkg.name === PACKAGE_NAME) return pkg.version;
    } catch {
      // not here; look one level up
    }
  }
  return "unknown";
}

export const PACKAGE_VERSION = readVersion();
