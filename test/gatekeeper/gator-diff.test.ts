// Differential test against the real `gator test` (skipped when gator is not installed).
// For each library template: the template, its sample constraints and every sample object are
// given to both, with gator's CEL driver off (Portcullis runs the Rego), and the violations
// (object, constraint, action, message) are compared as multisets.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const LIBRARY = path.resolve(here, "../../../shared/gatekeeper-library/library");

function findGator(): string | null {
  const candidates = [process.env.GATOR, path.join(os.homedir(), "go/bin/gator")].filter(Boolean) as string[];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  const r = spawnSync("gator", ["--version"], { encoding: "utf8" });
  return r.status === 0 ? "gator" : null;
}

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(e.name)) out.push(p);
  }
  return out.sort();
}

// Known, understood differences from gator test (see src/gatekeeper/README.md): none at present.
const KNOWN: RegExp[] = [];

test("gator test agrees with Portcullis on the library samples", { timeout: 600_000 }, async (t) => {
  const gator = findGator();
  if (!gator) return t.skip("gator is not installed");
  if (!fs.existsSync(LIBRARY)) return t.skip(`no library at ${LIBRARY}`);
  const { gatorTest } = await import("../../src/gatekeeper/gatortest.ts");
  const dirs = fs
    .readdirSync(LIBRARY, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => fs.readdirSync(path.join(LIBRARY, d.name)).map((x) => path.join(LIBRARY, d.name, x)))
    .filter((d) => fs.existsSync(path.join(d, "template.yaml")) && fs.existsSync(path.join(d, "samples")));
  let same = 0;
  const diffs: string[] = [];
  for (const dir of dirs) {
    const files = [path.join(dir, "template.yaml"), ...yamlFiles(path.join(dir, "samples"))];
    const r = spawnSync(gator, ["test", "--enable-k8s-native-validation=false", "-o", "json", ...files.flatMap((f) => ["-f", f])], { encoding: "utf8" });
    const theirs: string[] = [];
    if (r.stdout.trim() && r.stdout.trim() !== "null") {
      for (const v of JSON.parse(r.stdout)) {
        const o = v.violatingObject ?? {};
        theirs.push(`${o.apiVersion}/${o.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""} [${v.constraint?.metadata?.name}] ${v.enforcementAction}: ${v.msg}`);
      }
    }
    const mine = await gatorTest(files, [], { output: "json", k8sNativeValidation: false });
    // The human-readable lines must agree too (gator orders ties arbitrarily: compare sorted).
    const human = spawnSync(gator, ["test", "--enable-k8s-native-validation=false", ...files.flatMap((f) => ["-f", f])], { encoding: "utf8" });
    const mineHuman = await gatorTest(files, [], { k8sNativeValidation: false });
    const sortLines = (s: string) => s.split("\n").filter(Boolean).sort().join("\n");
    const humanDiff = sortLines(human.stdout) !== sortLines(mineHuman.stdout);
    const ours = mine.violations.map((v) => {
      const o = v.object ?? {};
      return `${o.apiVersion}/${o.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""} [${v.constraintName}] ${v.enforcementAction}: ${v.msg}`;
    });
    theirs.sort();
    ours.sort();
    const onlyTheirs = theirs.filter((x) => !ours.includes(x));
    const onlyOurs = ours.filter((x) => !theirs.includes(x));
    const rel = path.relative(LIBRARY, dir);
    const codeDiff = (r.status ?? -1) !== mine.exitCode;
    if (!onlyTheirs.length && !onlyOurs.length && !codeDiff && !humanDiff) {
      same++;
      continue;
    }
    const lines = [`${rel}: exit gator=${r.status} ours=${mine.exitCode}${r.stderr ? ` (gator stderr: ${r.stderr.trim()})` : ""}${mine.stderr ? ` (our stderr: ${mine.stderr.trim()})` : ""}`];
    for (const x of onlyTheirs) lines.push(`  only gator: ${x}`);
    for (const x of onlyOurs) lines.push(`  only ours:  ${x}`);
    if (humanDiff && !onlyTheirs.length && !onlyOurs.length) lines.push(`  human output differs:\n--- gator\n${human.stdout}--- ours\n${mineHuman.stdout}`);
    const text = lines.join("\n");
    if (!KNOWN.some((re) => re.test(text))) diffs.push(text);
  }
  console.log(`gator differential: ${same}/${dirs.length} template directories identical`);
  t.diagnostic(`${same}/${dirs.length} template directories identical`);
  assert.deepEqual(diffs, [], diffs.join("\n"));
});
