import { test } from "node:test";
import assert from "node:assert/strict";
import { cases } from "./cases/semver.ts";
import { checkDecls, evalCall, runCases } from "./helpers.ts";

runCases("semver", cases);

checkDecls(["semver.is_valid", "semver.compare"]);

// OPA 1.19 never returns for these (its identifier loop does not end when numerically equal
// identifiers differ as text); Portcullis calls them equal.
test("semver.compare terminates where numeric identifiers tie", () => {
  assert.equal(evalCall(`semver.compare("1.0.0-1", "1.0.0-01")`), 0);
  assert.equal(evalCall(`semver.compare("1.0.0-a.99999999999999999999", "1.0.0-a.99999999999999999998")`), 0);
});
