// Case generation by (target, seed, index), the messages between the parent and its workers, and
// the counters a job reports.

import type { FuzzCase, Outcome, Target } from "./targets.ts";
import { generateRegoCase } from "./gen-rego.ts";
import { generateFormatCase } from "./gen-formats.ts";
import { generateBuiltinCase } from "./gen-builtins.ts";

export interface JobMsg {
  type: "job";
  id: number;
  target: Target;
  parser?: string;
  seed: number;
  start: number;
  end: number;
  /** Cap on generated input sizes (characters); undefined: gen-rego's MAX_INPUT. */
  maxInput?: number;
  quarantine: string[];
  evalTimeoutMs: number;
  /** A case slower than this (ms) counts as slow; an area with `slowLimit` slow cases is skipped from then on. */
  slowMs: number;
  slowLimit: number;
}

export interface CheckMsg {
  type: "check";
  id: number;
  case: FuzzCase;
  evalTimeoutMs: number;
}

export interface Stats {
  run: number;
  ok: number;
  coded: Record<string, number>;
  crash: number;
  hang: number;
  skipped: number;
  slow: number;
  /** Builtin cases in which the builtin under test actually ran (not stopped by a compile error). */
  reached: number;
  /** CPU time of the workers' jobs (user + system), ms. */
  cpuMs: number;
  /** Cases run and crashes per area (builtin name, parser, rego recipe). */
  areas: Record<string, { run: number; crash: number; ms: number; slow: number }>;
}

export function emptyStats(): Stats {
  return { run: 0, ok: 0, coded: {}, crash: 0, hang: 0, skipped: 0, slow: 0, reached: 0, cpuMs: 0, areas: {} };
}

export function addStats(a: Stats, b: Stats): void {
  a.run += b.run;
  a.ok += b.ok;
  a.crash += b.crash;
  a.hang += b.hang;
  a.skipped += b.skipped;
  a.slow += b.slow;
  a.reached += b.reached ?? 0;
  a.cpuMs += b.cpuMs;
  for (const [k, v] of Object.entries(b.coded)) a.coded[k] = (a.coded[k] ?? 0) + v;
  for (const [k, v] of Object.entries(b.areas)) {
    const x = (a.areas[k] ??= { run: 0, crash: 0, ms: 0, slow: 0 });
    x.slow += v.slow;
    x.run += v.run;
    x.crash += v.crash;
    x.ms += v.ms;
  }
}

export interface FindingMsg {
  type: "finding";
  jobId: number;
  index: number;
  signature: string;
  count: number;
  case: FuzzCase;
  outcome: Extract<Outcome, { kind: "crash" }>;
}

export function generate(target: Target, seed: number, index: number, parser?: string): FuzzCase {
  switch (target) {
    case "rego":
      return generateRegoCase(seed, index);
    case "formats":
      return generateFormatCase(seed, parser!, index);
    case "builtins":
      return generateBuiltinCase(seed, index);
  }
}

