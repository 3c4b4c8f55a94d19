// The trace corpus (test/fixtures/trace/cases.json): opa eval --explain, opa test --explain and
// conftest test --trace over fixtures and examples, run with Portcullis and with the oracles, and
// compared line by line (the longest common subsequence of trace lines).
import { execFileSync } from "node:child_process";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { homedir } from "node:os";
import { cli } from "../cli/helpers.ts";

export interface TraceCase {
  kind: "eval" | "verify" | "conftest";
  data?: string[];
  input?: string;
  query?: string;
  explain?: string;
  args?: string[];
  /** Trace lines that must match OPA's (default: all of them). */
  floor?: number;
}

export const ROOT = join(import.meta.dirname, "..", "..");
export const CASES: TraceCase[] = JSON.parse(readFileSync(join(ROOT, "test/fixtures/trace/cases.json"), "utf8"));
export const EXPECTED_FILE = join(ROOT, "test/fixtures/trace/expected.json");

export function caseName(c: TraceCase): string {
  return c.kind === "eval" ? `eval --explain=${c.explain} ${c.query} (${(c.data ?? []).join(" ")}${c.input ? " < " + c.input : ""})` : `${c.kind === "verify" ? "verify" : "test"} ${c.args!.join(" ")}`;
}

function argv(c: TraceCase): string[] {
  if (c.kind === "eval") return ["eval", "-f", "pretty", `--explain=${c.explain}`, ...(c.data ?? []).flatMap((d) => ["-d", d]), ...(c.input ? ["-i", c.input] : []), c.query!];
  return [c.kind === "verify" ? "verify" : "test", ...c.args!];
}

/** The trace lines of a command's standard output. */
export function traceLines(c: TraceCase, stdout: string): string[] {
  const lines = stdout.split("\n");
  if (c.kind === "conftest") return lines.filter((l) => l.startsWith("TRAC "));
  if (c.kind === "verify") return lines.filter((l) => /^ {2}\S+:\d+ {2,}/.test(l));
  return lines.filter((l) => /^\S+:\d+ {2,}/.test(l));
}

export async function ours(c: TraceCase): Promise<string[]> {
  const prev = process.cwd();
  process.chdir(ROOT);
  try {
    const r = await cli(argv(c));
    return traceLines(c, r.out);
  } finally {
    process.chdir(prev);
  }
}

function tool(name: string): string | null {
  for (const p of [join(homedir(), "go", "bin", name), name]) {
    try {
      execFileSync(p, ["--help"], { stdio: "ignore" });
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

/** The oracle's trace lines, or null when opa/conftest is not installed. */
export function oracle(c: TraceCase): string[] | null {
  const bin = tool(c.kind === "conftest" ? "conftest" : "opa");
  if (bin === null) return null;
  const args = argv(c);
  if (c.kind === "verify") args[0] = "test";
  let out: string;
  try {
    out = execFileSync(bin, args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch (e) {
    out = String((e as { stdout?: string }).stdout ?? "");
  }
  return traceLines(c, out);
}

/**
 * conftest queries a namespace's rules in Go map order, which varies from run to run (a rotation
 * of the rules): its trace is compared as the multiset of its queries' traces (each from a
 * top-level Enter), sorted.
 */
export function sortedQueries(lines: string[]): string[] {
  const blocks: string[][] = [];
  for (const l of lines) {
    if (blocks.length === 0 || l.startsWith("TRAC   Enter ")) blocks.push([]);
    blocks[blocks.length - 1].push(l);
  }
  // an exception query and the rule query after it stay together
  const pairs: string[][] = [];
  for (let i = 0; i < blocks.length; i++) {
    if (blocks[i][0].includes(".exception[_][_]") && i + 1 < blocks.length) pairs.push([...blocks[i], ...blocks[++i]]);
    else pairs.push(blocks[i]);
  }
  return pairs
    .map((p) => p.join("\n"))
    .sort()
    .flatMap((p) => p.split("\n"));
}

/**
 * Lines of `a` matched in `b`: the longest common subsequence (of the sorted queries for
 * conftest); for verify, whose tests run in an order that varies from run to run in opa test,
 * the common lines counted as multisets.
 */
export function matchedLines(c: TraceCase, a: string[], b: string[]): number {
  if (c.kind === "conftest") return lcs(sortedQueries(a), sortedQueries(b));
  if (c.kind !== "verify") return lcs(a, b);
  const count = new Map<string, number>();
  for (const l of b) count.set(l, (count.get(l) ?? 0) + 1);
  let n = 0;
  for (const l of a) {
    const k = count.get(l) ?? 0;
    if (k > 0) {
      n++;
      count.set(l, k - 1);
    }
  }
  return n;
}

/** Length of the longest common subsequence of two line lists. */
export function lcs(a: string[], b: string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    prev = cur;
  }
  return prev[b.length];
}

export function haveExpected(): boolean {
  return existsSync(EXPECTED_FILE);
}
