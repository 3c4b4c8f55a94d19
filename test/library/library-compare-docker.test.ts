// scripts/library-compare-docker.ts: extracting hadolint's spec snippets (the comparison itself
// needs a hadolint checkout and runs by hand; its figures are in library/README.md).
import { test } from "node:test";
import assert from "node:assert/strict";
import { extractCases, tokenize } from "../../scripts/library-compare-docker.ts";

const SPEC = String.raw`
spec = do
  describe "DL3000 - Use absolute WORKDIR." $ do
    -- a comment with "quotes" is skipped
    it "workdir relative" $ ruleCatches "DL3000" "WORKDIR relative/dir"
    it "quoted" $ ruleCatchesNot "DL3000" "WORKDIR \"/usr/local\""
    it "stages" $
      let dockerFile =
            [ "FROM scratch as build",
              "COPY --from=build foo \
              \bar ."
            ]
       in do
            ruleCatchesNot "DL3000" $ Text.unlines dockerFile
            onBuildRuleCatchesNot "DL3000" $ Text.unlines dockerFile
    it "let-bound line" $
      let line = "RUN apk add --no-cache curl"
       in ruleCatchesNot "DL3019" line
    it "built otherwise" $ ruleCatches "DL3000" (Text.pack x)
`;

test("Haskell string literals: escapes and string gaps", () => {
  const strs = tokenize(String.raw`"a\"b\\c\nd" "x\   \y" "\65\&1"`).filter((t) => t.kind === "str").map((t) => t.text);
  assert.deepEqual(strs, ['a"b\\c\nd', "xy", "A1"]);
});

test("ruleCatches / ruleCatchesNot cases with literal, list-bound and line-bound snippets", () => {
  const { cases, skipped } = extractCases("DL3000Spec.hs", SPEC);
  assert.deepEqual(
    cases.map((c) => [c.dl, c.it, c.catches, c.dockerfile]),
    [
      ["DL3000", "workdir relative", true, "WORKDIR relative/dir"],
      ["DL3000", "quoted", false, 'WORKDIR "/usr/local"'],
      ["DL3000", "stages", false, "FROM scratch as build\nCOPY --from=build foo bar .\n"],
      ["DL3019", "let-bound line", false, "RUN apk add --no-cache curl"],
    ],
  );
  assert.equal(skipped, 1);
});
