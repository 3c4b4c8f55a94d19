// Interleaved CPU-time measurement of one workload on several engines.
//
// Protocol: every engine evaluates once (its answer is compared with Portcullis's: an engine
// whose answer differs is not timed, so a ratio never compares different answers), then warms
// up until it has spent `warmMs` of CPU, which also sizes its batch to about `batchMs` of CPU.
// Then `rounds` rounds run one batch per engine each, the engine order rotating every round, so
// a change in machine load falls on all engines alike. The figure is the median batch.
import type { Runner } from "./runners.ts";
import { agree, type Workload } from "./workload.ts";

export interface MeasureOptions {
  rounds: number;
  batchMs: number;
  warmMs: number;
  /** An engine whose single evaluation costs more than this is measured with one timed evaluation. */
  slowMs: number;
}

export const DEFAULT_OPTIONS: MeasureOptions = { rounds: 5, batchMs: 40, warmMs: 150, slowMs: 2000 };
export const QUICK_OPTIONS: MeasureOptions = { rounds: 2, batchMs: 5, warmMs: 10, slowMs: 500 };

export interface EngineFigure {
  /** Median CPU ns per evaluation, or undefined when not measured. */
  ns?: number;
  /** Why there is no figure: the engine's error, or that its answer differs. */
  skipped?: string;
  /** "order": the answers agree once arrays are compared as multisets (sets in another order). */
  agreement?: "same" | "order";
  rounds?: number[];
}

export interface Measurement {
  workload: Workload;
  figures: Record<string, EngineFigure>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function oneLine(e: unknown): string {
  // Engines' messages may start with a blank line or span several (regorus's source excerpts).
  const text = String(e instanceof Error ? e.message : e);
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l && !/^\|?\s*\^?$/.test(l));
  return lines.join(" ").replace(/\s+/g, " ").slice(0, 200) || "failed without a message";
}

/**
 * Measure w on the reference runner (Portcullis, first) and the others; `compare` lists the
 * runners whose answers must equal the reference's (JSON.parse has none).
 */
export async function measure(w: Workload, reference: Runner, others: Runner[], opts: MeasureOptions, compare: Set<Runner>): Promise<Measurement> {
  const figures: Record<string, EngineFigure> = {};
  const live: { r: Runner; n: number; times: number[] }[] = [];
  let refResult: unknown;
  try {
    const first = await reference.run(w, 1);
    refResult = first.result;
    figures[reference.name] = {};
    live.push({ r: reference, n: await calibrate(reference, w, first.ns, opts), times: [] });
  } catch (e) {
    figures[reference.name] = { skipped: oneLine(e) };
    for (const r of others) figures[r.name] = { skipped: `${reference.name} failed` };
    return { workload: w, figures };
  }
  for (const r of others) {
    try {
      const first = await r.run(w, 1);
      let agreement: "same" | "order" | undefined;
      if (compare.has(r)) {
        const a = agree(refResult, first.result);
        if (a === "different") {
          figures[r.name] = {
            skipped: `answer differs from ${reference.name}: ${JSON.stringify(first.result).slice(0, 200)} vs ${JSON.stringify(refResult).slice(0, 200)}`,
          };
          continue;
        }
        agreement = a;
      }
      figures[r.name] = agreement ? { agreement } : {};
      live.push({ r, n: await calibrate(r, w, first.ns, opts), times: [] });
    } catch (e) {
      figures[r.name] = { skipped: oneLine(e) };
    }
  }
  for (let round = 0; round < opts.rounds; round++) {
    for (let k = 0; k < live.length; k++) {
      const l = live[(k + round) % live.length];
      if (l.times.length > round) continue;
      try {
        const res = await l.r.run(w, l.n);
        l.times.push(res.ns);
        // An engine so slow that one evaluation exceeds slowMs gives one timed figure, not rounds.
        if (res.ns > opts.slowMs * 1e6) while (l.times.length < opts.rounds) l.times.push(res.ns);
      } catch (e) {
        figures[l.r.name] = { skipped: oneLine(e) };
        l.times.length = 0;
        l.n = 0;
      }
    }
  }
  for (const l of live) {
    if (l.n === 0 || l.times.length === 0) continue;
    figures[l.r.name].ns = median(l.times);
    figures[l.r.name].rounds = l.times;
  }
  return { workload: w, figures };
}

/** Warm the runner up to opts.warmMs of CPU; answer the batch size for opts.batchMs. */
async function calibrate(r: Runner, w: Workload, firstNs: number, opts: MeasureOptions): Promise<number> {
  let per = Math.max(firstNs, 1);
  if (per > opts.slowMs * 1e6) return 1;
  let spent = per;
  let n = 1;
  while (spent < opts.warmMs * 1e6) {
    n = Math.max(1, Math.min(n * 8, Math.ceil((opts.warmMs * 1e6 - spent) / per)));
    const res = await r.run(w, n);
    per = Math.max(res.ns, 1);
    spent += per * n;
  }
  return Math.max(1, Math.round((opts.batchMs * 1e6) / per));
}

export function geomean(xs: number[]): number | undefined {
  const ok = xs.filter((x) => Number.isFinite(x) && x > 0);
  if (ok.length === 0) return undefined;
  return Math.exp(ok.reduce((a, x) => a + Math.log(x), 0) / ok.length);
}
