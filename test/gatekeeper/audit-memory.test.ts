// The audit streams: 20,000 generated objects are audited in pages, the complete report lists
// every violation, and peak RSS stays under 300 MiB and near that of 5,000 objects
// (scripts/audit-scale.ts runs in a child process so its RSS is the audit's own).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expectedViolations } from "../support/audit-objects.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

function scale(objects: number, report: string): Record<string, any> {
  const out = execFileSync(process.execPath, ["--import", "tsx", join(root, "scripts/audit-scale.ts"), "--objects", String(objects), "--report", report], { cwd: root, encoding: "utf8", timeout: 120_000 });
  return JSON.parse(out.trim().split("\n").pop()!);
}

test("20,000 objects: every violation reported, peak RSS bounded by the page size, not the object count", () => {
  const dir = mkdtempSync(join(tmpdir(), "audit-mem-"));
  try {
    const small = scale(5000, join(dir, "small.ndjson"));
    const big = scale(20000, join(dir, "big.ndjson"));
    for (const [r, n] of [[small, 5000], [big, 20000]] as const) {
      const want = expectedViolations(n);
      assert.equal(r.objects, n);
      assert.deepEqual(r.byConstraint, want);
      const total = Object.values(want).reduce((a, b) => a + b, 0);
      assert.equal(r.totalViolations, total);
      assert.equal(r.reportLines, total + 2, "the NDJSON report: a start line, every violation, the summary");
      assert.equal(r.errors, 0);
    }
    assert.ok(big.peakRssMiB < 300, `peak RSS ${big.peakRssMiB} MiB`);
    // Four times the objects: RSS within 48 MiB of the smaller run (GC timing, not growth).
    assert.ok(big.peakRssMiB - small.peakRssMiB < 48, `RSS 5,000: ${small.peakRssMiB} MiB, 20,000: ${big.peakRssMiB} MiB`);
    process.stdout.write(`# audit 5,000: ${small.seconds} s ${small.peakRssMiB} MiB; 20,000: ${big.seconds} s ${big.peakRssMiB} MiB\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
