// `npm test` type-checks too: `tsc --noEmit` over src, test, scripts and bench (tsconfig.json), as
// `npm run typecheck` does. Tests run through tsx, which strips types without checking them.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TSC = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");

test("tsc --noEmit reports no errors", () => {
  const r = spawnSync(process.execPath, [TSC, "--noEmit", "-p", ROOT], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.error, undefined);
  assert.equal(r.status, 0, `tsc --noEmit failed:\n${r.stdout}${r.stderr}`);
});
