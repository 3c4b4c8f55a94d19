// A unified diff between two texts, as `diff -u` prints it (`portcullis fmt -d`).

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
