// Formatting keeps meaning and is idempotent, on every module of the Gatekeeper library and of
// the conformance suites (../shared; skipped when absent): the module is formatted, the
// output parsed again and compared with the original (locations left out, see normalize.ts),
// with every comment kept, and formatting the output again changes nothing. v0 modules are
// checked both ways they can be printed: as v0, and as v1 (what `portcullis fmt --v0-v1`
// writes).
import test from "node:test";
import assert from "node:assert/strict";
import { formatSource, parseForFormat } from "../../src/rego/format.ts";
import { RegoError } from "../../src/rego/errors.ts";
import { picture, commentTexts } from "./normalize.ts";
import { gatekeeperModules, conformanceModules, sharedAvailable, type CorpusModule } from "./corpus.ts";

interface Outcome {
  checked: number;
  unparsable: number;
  refused: number;
  failures: string[];
}

function check(mods: CorpusModule[]): Outcome {
  const out: Outcome = { checked: 0, unparsable: 0, refused: 0, failures: [] };
  for (const m of mods) {
    let orig;
    try {
      orig = parseForFormat(m.name, m.source, m.regoVersion);
    } catch (e) {
      if (!(e instanceof RegoError)) throw e;
      out.unparsable++; // not Rego this parser (or OPA) accepts: nothing to format
      continue;
    }
    const want = JSON.stringify(picture(orig));
    const wantComments = JSON.stringify(commentTexts(orig));
    const targets: { out: "v0" | "v1"; opts: Parameters<typeof formatSource>[2] }[] = [{ out: m.regoVersion, opts: { regoVersion: m.regoVersion } }];
    if (m.regoVersion === "v0") targets.push({ out: "v1", opts: { parseVersion: "v0", regoVersion: "v1", regoV1Import: true } });
    for (const { out: v, opts } of targets) {
      const what = `${m.name} (${m.regoVersion} → ${v})`;
      let once: string;
      try {
        once = formatSource(m.name, m.source, opts);
      } catch (e) {
        // Imports that shadow each other: refused, as `opa fmt` refuses them.
        if (e instanceof RegoError && e.code === "rego_compile_error") {
          out.refused++;
          continue;
        }
        out.failures.push(`${what}: formatting failed: ${(e as Error).message}`);
        continue;
      }
      out.checked++;
      let again;
      try {
        again = parseForFormat(m.name, once, v);
      } catch (e) {
        out.failures.push(`${what}: output does not parse: ${(e as Error).message.split("\n").slice(0, 2).join(" ")}`);
        continue;
      }
      if (JSON.stringify(picture(again)) !== want) out.failures.push(`${what}: meaning changed`);
      if (JSON.stringify(commentTexts(again)) !== wantComments) out.failures.push(`${what}: comments changed`);
      const twice = formatSource(m.name, once, { regoVersion: v });
      if (twice !== once) out.failures.push(`${what}: not idempotent`);
    }
  }
  return out;
}

for (const [set, load] of [
  ["gatekeeper library", gatekeeperModules],
  ["conformance suites", conformanceModules],
] as const) {
  test(`fmt: ${set}: formatting keeps meaning and comments, and is idempotent`, (t) => {
    if (!sharedAvailable()) {
      t.skip("../shared not present");
      return;
    }
    const mods = load();
    const r = check(mods);
    t.diagnostic(`${mods.length} modules, ${r.unparsable} not parsable and ${r.refused} formattings refused (skipped), ${r.checked} formattings checked, ${r.failures.length} failures`);
    for (const f of r.failures) t.diagnostic(f);
    assert.ok(r.checked > 0);
    assert.deepEqual(r.failures, []);
  });
}
