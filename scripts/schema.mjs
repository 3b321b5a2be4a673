#!/usr/bin/env node
// npm run schema: writes the plugin's package schema to plugin/schema.json (what `GetSchema`
// answers, from dist/), so a change to it shows in review; tests/package-schema.test.ts fails when
// the committed file and the code disagree.
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const { packageSchema } = require(join(ROOT, "dist/provider/native/schema.js"));
const { version } = require(join(ROOT, "package.json"));
const out = join(ROOT, "plugin/schema.json");
writeFileSync(out, `${JSON.stringify(packageSchema(version), null, 2)}\n`);
console.log(`wrote ${out}`);
