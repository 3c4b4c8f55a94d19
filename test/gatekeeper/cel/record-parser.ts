// Records cel-go's parser (v0.26.0, Gatekeeper 3.21's) on every expression of the cel-spec
// conformance tests @bufbuild/cel-spec bundles and on the hand-written cases of parser-cases.ts,
// into recorded/parser-celgo.json: for each expression (by hash), the hash of cel-go's tree or
// its error text, with backtick-quoted field names on (cel-spec's setting) and off (Kubernetes').
// Needs Go; builds celgo-parser/ into a temporary directory.
//   node --import tsx test/gatekeeper/cel/record-parser.ts
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { canonical, shortHash, type ParseAnswer } from "./astdump.ts";
import { HAND_CASES, limitCases } from "./parser-cases.ts";
import { conformanceExpressions } from "./parser-conformance.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const work = fs.mkdtempSync(path.join(os.tmpdir(), "celgo-parser-"));
for (const f of ["main.go", "go.mod"]) fs.copyFileSync(path.join(here, "celgo-parser", f), path.join(work, f));
const go = (args: string[]) => {
  const r = spawnSync("go", args, { cwd: work, encoding: "utf8", env: { ...process.env, GOFLAGS: "-mod=mod" } });
  if (r.status !== 0) throw new Error(`go ${args.join(" ")}: ${r.stderr}`);
};
go(["mod", "tidy"]);
go(["build", "-o", "oracle", "."]);

function celGo(exprs: string[], escape: boolean): ParseAnswer[] {
  const r = spawnSync(path.join(work, "oracle"), escape ? ["escape"] : [], { input: exprs.map((e) => JSON.stringify(e)).join("\n") + "\n", maxBuffer: 1 << 30, encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  const out = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { ast?: unknown; error?: string });
  if (out.length !== exprs.length) throw new Error(`the oracle answered ${out.length} of ${exprs.length}`);
  return out.map((o) => (o.error !== undefined ? { error: o.error } : { tree: shortHash(canonical(o.ast)) }));
}

const conf = conformanceExpressions();
if (!conf) throw new Error("@bufbuild/cel-spec's bundled conformance tests are not installed");
const confAnswers = celGo(conf, true);
const conformance: Record<string, ParseAnswer> = {};
conf.forEach((e, i) => (conformance[shortHash(e)] = confAnswers[i]));

const hand = [...HAND_CASES, ...limitCases()];
const withEscape = celGo(hand, true);
const k8s = celGo(hand, false);
const cases: Record<string, { escape: ParseAnswer; k8s: ParseAnswer }> = {};
hand.forEach((e, i) => (cases[shortHash(e)] = { escape: withEscape[i], k8s: k8s[i] }));

fs.writeFileSync(path.join(here, "recorded", "parser-celgo.json"), JSON.stringify({ celGo: "v0.26.0", conformance, cases }, null, 1) + "\n");
fs.rmSync(work, { recursive: true, force: true });
console.log(`recorded ${conf.length} conformance expressions and ${hand.length} hand-written cases`);
