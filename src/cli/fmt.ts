// `portcullis fmt`: formats Rego files as `opa fmt` does (src/rego/format.ts).
//
// Paths are files, directories (walked for .rego files, hidden entries skipped) or `-` for
// standard input; with no path, standard input is read. By default the formatted source is
// printed. -w writes files in place (only those that change), -l lists the files that would
// change, -d prints a unified diff, --fail exits 1 when something would change, and --check
// (conftest's `fmt --check`) lists those files and exits 1, writing nothing. A file that does
// not parse is reported as `file:row:col: code: message` on stderr, left untouched, and makes
// the exit code 1.

import { readFileSync, readdirSync, statSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { formatSource } from "../rego/format.ts";
import { RegoError } from "../rego/errors.ts";

export interface FmtOptions {
  write?: boolean;
  diff?: boolean;
  list?: boolean;
  fail?: boolean;
  check?: boolean;
  /** Parse and print Rego v0 (`opa fmt --v0-compatible`). */
  v0Compatible?: boolean;
  /** Rego v0 in, v1 out that v0 also accepts, with `import rego.v1` (`opa fmt --v0-v1`). */
  v0v1?: boolean;
}

export interface FmtIO {
  out(s: string): void;
  err(s: string): void;
  /** Reads all of standard input (tests pass their own). */
  readStdin?: () => string;
}

const STDIN = "-";

/** Run the command; returns the exit code. */
export function runFmt(paths: string[], o: FmtOptions, io: FmtIO): number {
  const readStdin = io.readStdin ?? (() => readFileSync(0, "utf8"));
  let files: string[];
  try {
    files = collect(paths.length ? paths : [STDIN]);
  } catch (e) {
    io.err(`error: ${(e as Error).message}\n`);
    return 1;
  }
  const check = !!o.check;
  const list = !!o.list || check;
  const write = !!o.write && !check;
  const printSource = !list && !o.diff && !write;
  let failed = false;
  let changed = false;
  for (const file of files) {
    let source: string;
    try {
      source = file === STDIN ? readStdin() : readFileSync(file, "utf8");
    } catch (e) {
      io.err(`error: ${file}: ${(e as Error).message}\n`);
      failed = true;
      continue;
    }
    const name = file === STDIN ? "stdin" : file;
    let formatted: string;
    try {
      formatted = format(name, source, o);
    } catch (e) {
      if (!(e instanceof RegoError)) throw e;
      for (const d of e.errors) {
        const l = d.location;
        io.err(l ? `${l.file || name}:${l.row}:${l.col}: ${d.code}: ${d.message}\n` : `${name}: ${d.code}: ${d.message}\n`);
      }
      failed = true;
      continue;
    }
    const differs = formatted !== source;
    if (differs) changed = true;
    if (printSource) io.out(formatted);
    if (list && differs) io.out(`${name}\n`);
    if (o.diff && differs) io.out(unifiedDiff(name, source, formatted));
    if (write && differs && file !== STDIN) {
      try {
        writeFileSync(file, formatted);
      } catch (e) {
        io.err(`error: ${file}: ${(e as Error).message}\n`);
        failed = true;
      }
    } else if (write && file === STDIN) io.out(formatted);
  }
  if (failed) return 1;
  if (changed && (o.fail || check)) return 1;
  return 0;
}

function format(name: string, source: string, o: FmtOptions): string {
  if (o.v0v1) return formatSource(name, source, { parseVersion: "v0", regoVersion: "v1", regoV1Import: true });
  return formatSource(name, source, { regoVersion: o.v0Compatible ? "v0" : "v1" });
}

/** Files named, and .rego files under directories named (sorted, hidden entries skipped). */
function collect(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (p === STDIN) {
      out.push(STDIN);
      continue;
    }
    if (!existsSync(p)) throw new Error(`${p}: no such file or directory`);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith(".")) continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (name.endsWith(".rego")) out.push(p);
  }
}

// ---- unified diff ----------------------------------------------------------------------------

/** A unified diff (3 lines of context) between two texts, as `diff -u` prints it. */
export function unifiedDiff(name: string, a: string, b: string): string {
  const x = splitLines(a);
  const y = splitLines(b);
  const ops = diffLines(x, y);
  const CONTEXT = 3;
  let out = `--- ${name}\n+++ ${name} (formatted)\n`;
  // Group the edit script into hunks.
  let i = 0;
  while (i < ops.length) {
    if (ops[i].op === " ") {
      i++;
      continue;
    }
    let start = i;
    let ctx = 0;
    while (start > 0 && ops[start - 1].op === " " && ctx < CONTEXT) {
      start--;
      ctx++;
    }
    let end = i;
    for (;;) {
      while (end < ops.length && ops[end].op !== " ") end++;
      let run = 0;
      while (end + run < ops.length && ops[end + run].op === " ") run++;
      if (end + run < ops.length && run <= 2 * CONTEXT) {
        end += run;
        continue;
      }
      end += Math.min(run, CONTEXT);
      break;
    }
    const hunk = ops.slice(start, end);
    const aStart = hunk[0].ai;
    const bStart = hunk[0].bi;
    const aLen = hunk.filter((h) => h.op !== "+").length;
    const bLen = hunk.filter((h) => h.op !== "-").length;
    out += `@@ -${range(aStart, aLen)} +${range(bStart, bLen)} @@\n`;
    for (const h of hunk) out += h.op + h.line + "\n";
    i = end;
  }
  return out;
}

function range(start: number, len: number): string {
  const s = len === 0 ? start : start + 1;
  return len === 1 ? `${s}` : `${s},${len}`;
}

function splitLines(s: string): string[] {
  const lines = s.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

interface DiffOp {
  op: " " | "-" | "+";
  line: string;
  ai: number; // index in a of this line (or where it would go)
  bi: number;
}

/** Longest-common-subsequence line diff (common prefix and suffix trimmed first). */
function diffLines(a: string[], b: string[]): DiffOp[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const A = a.slice(pre, a.length - suf);
  const B = b.slice(pre, b.length - suf);
  const n = A.length;
  const m = B.length;
  const ops: DiffOp[] = [];
  for (let k = 0; k < pre; k++) ops.push({ op: " ", line: a[k], ai: k, bi: k });
  if (n * m > 25_000_000) {
    // Too big to align: replace the middle wholesale.
    A.forEach((line, k) => ops.push({ op: "-", line, ai: pre + k, bi: pre }));
    B.forEach((line, k) => ops.push({ op: "+", line, ai: pre + n, bi: pre + k }));
  } else {
    const w = m + 1;
    const L = new Uint32Array((n + 1) * w);
    for (let p = n - 1; p >= 0; p--) {
      for (let q = m - 1; q >= 0; q--) {
        L[p * w + q] = A[p] === B[q] ? L[(p + 1) * w + q + 1] + 1 : Math.max(L[(p + 1) * w + q], L[p * w + q + 1]);
      }
    }
    let p = 0;
    let q = 0;
    while (p < n || q < m) {
      if (p < n && q < m && A[p] === B[q]) {
        ops.push({ op: " ", line: A[p], ai: pre + p, bi: pre + q });
        p++;
        q++;
      } else if (p < n && (q === m || L[(p + 1) * w + q] >= L[p * w + q + 1])) {
        ops.push({ op: "-", line: A[p], ai: pre + p, bi: pre + q });
        p++;
      } else {
        ops.push({ op: "+", line: B[q], ai: pre + p, bi: pre + q });
        q++;
      }
    }
  }
  for (let k = 0; k < suf; k++) ops.push({ op: " ", line: a[a.length - suf + k], ai: a.length - suf + k, bi: b.length - suf + k });
  return ops;
}
