/** This package's name and version, read from its package.json. */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const PACKAGE_NAME = "pulumi-sendgrid-segment";

/**
 * The version in the package.json above `dir`: one level up from the sources (provider/), two from
 * the build (dist/provider/), whether in a clone or installed in node_modules.
 */
export function versionFrom(dir: string): string {
  for (const up of [[".."], ["..", ".."]]) {
    try {
      const { version } = JSON.parse(String(readFileSync(join(dir, ...up, "package.json"))));
      if (typeof version === "string") return version;
    } catch {
      // not in this layout
    }
  }
  return "unknown";
}

/** Set by the plugin's bundler (`scripts/build-plugin.mjs`), where no package.json is beside the code. */
declare const __SENDGRID_SEGMENT_VERSION__: string | undefined;

export const PACKAGE_VERSION =
  // Stryker disable next-line ConditionalExpression,EqualityOperator,StringLiteral: tests run the sources, where the bundler's constant is never defined; the bundle is tested by the plugin executable test
  typeof __SENDGRID_SEGMENT_VERSION__ === "string" ? __SENDGRID_SEGMENT_VERSION__ : versionFrom(__dirname);
