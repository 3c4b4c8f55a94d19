// Differential sweep of builtins against real OPA: every line of test/builtins/calls/<family>.txt
// is one Rego expression; each is evaluated by Portcullis and by `opa eval` with strict builtin
// errors, and the value (exact JSON) or the error code is compared.
// Usage: npm run diff-builtins [-- FAMILY…]   (needs opa on PATH or in ~/go/bin)

import { execFile } from "node:child_process";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { homedir } from "node:os";
import { promisify } from "node:util";
import { Engine } from "../src/index.ts";
import { RegoError } from "../src/rego/errors.ts";
import { toJSONText } from "../src/rego/value.ts";

const run = promisify(execFile);
const CALLS = new URL("../test/builtins/calls/", import.meta.url).pathname;

async function findOpa(): Promise<string | null> {
  for (const c of [join(homedir(), "go", "bin", "opa"), "opa"]) {
    try {
      await run(c, ["version"]);
      return c;
    } catch {
      /* next */
    }
  }
  return null;
}

function canon(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x && typeof x === "object") return Object.keys(x).sort().map((k) => [k, sort((x as Record<string, unknown>)[k])]);
    return x;
  };
  return JSON.stringify(sort(v));
}

function ours(expr: string): string {
  try {
    const e = new Engine({ strictBuiltinErrors: true });
    const rs = e.queryRaw(`__x__ := ${expr}`, { print: () => {}, nowNs: 1700000000000000000n });
    if (rs instanceof Promise) return "async";
    if (rs.length === 0) return "undefined";
    return "value " + canon(JSON.parse(toJSONText(rs[0].bindings.get("__x__")!)));
  } catch (e) {
    if (e instanceof RegoError) return "error " + e.code;
    return "crash " + (e as Error).message;
  }
}

async function theirs(opa: string, expr: string): Promise<string> {
  let stdout = "";
  try {
    stdout = (await run(opa, ["eval", "-f", "json", "--strict-builtin-errors", `__x__ := ${expr}`], { maxBuffer: 1 << 24, timeout: 20000 })).stdout;
  } catch (e) {
    stdout = (e as { stdout?: string }).stdout ?? "";
  }
  const j = JSON.parse(stdout || "{}");
  if (j.errors) return "error " + j.errors[0].code;
  if (!j.result || j.result.length === 0) return "undefined";
  return "value " + canon(j.result[0].bindings.__x__);
}

const opa = await findOpa();
if (!opa || !existsSync(CALLS)) {
  console.log("skipped: opa not found (go install github.com/open-policy-agent/opa@v1.19.0)");
  process.exit(0);
}
const only = process.argv.slice(2);
const families = readdirSync(CALLS)
  .filter((f) => f.endsWith(".txt"))
  .map((f) => f.slice(0, -4))
  .filter((f) => only.length === 0 || only.includes(f))
  .sort();
let total = 0;
let bad = 0;
const summary: string[] = [];
for (const fam of families) {
  const lines = readFileSync(join(CALLS, `${fam}.txt`), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  let n = 0;
  let d = 0;
  // A few opa processes at a time.
  for (let i = 0; i < lines.length; i += 4) {
    const batch = lines.slice(i, i + 4);
    const results = await Promise.all(batch.map((l) => theirs(opa, l)));
    batch.forEach((l, j) => {
      const a = ours(l);
      const b = results[j];
      n++;
      // Error codes must match; eval_type_error vs eval_builtin_error are both "builtin errors".
      if (a !== b) {
        d++;
        console.log(`DIFF ${fam}: ${l}\n  portcullis: ${a.slice(0, 300)}\n  opa:        ${b.slice(0, 300)}`);
      }
    });
  }
  total += n;
  bad += d;
  summary.push(`${fam.padEnd(12)} ${String(n).padStart(4)} calls, ${d} disagreements`);
}
console.log("\n" + summary.join("\n"));
console.log(`\n${total} calls compared, ${bad} disagreements`);
