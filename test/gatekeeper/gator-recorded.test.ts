// Replays every case of test/gatekeeper/recorded/*.json (recorded from gator) through portcullis
// in process, and — when gator is installed — checks that gator still answers as recorded.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { findGator, loadCases, needsLibrary, runGator, runPortcullis, LIBRARY } from "./gator-recorded.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const files = fs.readdirSync(path.join(here, "recorded")).filter((f) => f.endsWith(".json")).sort();
const gator = findGator();

for (const file of files) {
  test(`recorded gator cases: ${file}`, async (t) => {
    let same = 0;
    let run = 0;
    for (const c of loadCases(file)) {
      await t.test(c.name, async (st) => {
        if (needsLibrary(c) && !fs.existsSync(LIBRARY)) return st.skip(`no gatekeeper-library at ${LIBRARY}`);
        run++;
        const want = { code: c.code, out: c.out, err: c.err };
        const got = await runPortcullis(c);
        assert.deepEqual(got, want, `portcullis ${c.portcullis.join(" ")}`);
        if (gator) assert.deepEqual(runGator(gator, c), want, `gator ${c.gator.join(" ")} no longer answers as recorded`);
        same++;
      });
    }
    t.diagnostic(`${file}: ${same}/${run} identical to gator${gator ? " (recorded and live)" : " (recorded)"}`);
  });
}
