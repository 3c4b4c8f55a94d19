// Tables of a bench run: per-workload rows with ratios, family geomeans, scaling curves.
import { geomean, type Measurement } from "./measure.ts";

export const REF = "Portcullis";
export const PARSE = "JSON.parse";

export function us(ns: number | undefined): string {
  if (ns === undefined) return "-";
  const u = ns / 1000;
  return u >= 1000 ? u.toFixed(0) : u >= 100 ? u.toFixed(1) : u >= 10 ? u.toFixed(2) : u.toFixed(3);
}

export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
}

export function fmtRatio(r: number | undefined): string {
  return r === undefined ? "-" : r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2);
}

function pad(s: string, n: number, left = false): string {
  return left ? s.padEnd(n) : s.padStart(n);
}

export interface FamilySummary {
  family: string;
  workloads: number;
  /** geomean of Portcullis ÷ JSON.parse */
  parse?: number;
  /** geomean of Portcullis ÷ peer, by peer name */
  peers: Record<string, number | undefined>;
}

/** Print one family's rows and its geomean; answer the summary. */
export function familyTable(family: string, ms: Measurement[], peers: string[], out: (s: string) => void): FamilySummary {
  const nameW = Math.min(44, Math.max(20, ...ms.map((m) => m.workload.name.length)));
  const head = [pad("workload", nameW, true), pad("Portcullis µs", 14), pad("JSON.parse µs", 14), pad("÷parse", 7)];
  for (const p of peers) head.push(pad(`${p} µs`, 12), pad(`÷${p}`, 9));
  out(`\n${family} (${ms.length} workload${ms.length === 1 ? "" : "s"})`);
  out(head.join(" "));
  const parseRatios: number[] = [];
  const peerRatios: Record<string, number[]> = Object.fromEntries(peers.map((p) => [p, []]));
  const notes: string[] = [];
  for (const m of ms) {
    const f = m.figures;
    const ref = f[REF]?.ns;
    const pr = ratio(ref, f[PARSE]?.ns);
    if (pr !== undefined) parseRatios.push(pr);
    const row = [pad(m.workload.name.slice(0, nameW), nameW, true), pad(ref === undefined ? "error" : us(ref), 14), pad(us(f[PARSE]?.ns), 14), pad(fmtRatio(pr), 7)];
    if (f[REF]?.skipped) notes.push(`  ${m.workload.name}: ${REF}: ${f[REF].skipped}`);
    for (const p of peers) {
      const pf = f[p];
      const r = ratio(ref, pf?.ns);
      if (r !== undefined) peerRatios[p].push(r);
      row.push(pad(pf?.skipped ? (pf.skipped.startsWith("answer differs") ? "differs" : "error") : us(pf?.ns), 12), pad(fmtRatio(r) + (pf?.agreement === "order" ? "°" : ""), 9));
      if (pf?.skipped) notes.push(`  ${m.workload.name}: ${p}: ${pf.skipped}`);
    }
    out(row.join(" "));
  }
  const summary: FamilySummary = { family, workloads: ms.length, parse: geomean(parseRatios), peers: {} };
  const g = [pad("geomean", nameW, true), pad("", 14), pad("", 14), pad(fmtRatio(summary.parse), 7)];
  for (const p of peers) {
    summary.peers[p] = geomean(peerRatios[p]);
    g.push(pad(`(${peerRatios[p].length})`, 12), pad(fmtRatio(summary.peers[p]), 9));
  }
  out(g.join(" "));
  for (const n of notes) out(n);
  return summary;
}

export function summaryTable(ss: FamilySummary[], peers: string[], out: (s: string) => void): void {
  out(`\nfamily geomeans (Portcullis CPU ÷ other engine's CPU per evaluation; below 1 = Portcullis spends less)`);
  out([pad("family", 16, true), pad("workloads", 10), pad("÷JSON.parse", 12), ...peers.map((p) => pad(`÷${p}`, 10))].join(" "));
  for (const s of ss) out([pad(s.family, 16, true), pad(String(s.workloads), 10), pad(fmtRatio(s.parse), 12), ...peers.map((p) => pad(fmtRatio(s.peers[p]), 10))].join(" "));
}

/** Log-log slope between two points: 1 is linear, 2 quadratic. */
export function slope(n0: number, t0: number | undefined, n1: number, t1: number | undefined): number | undefined {
  if (t0 === undefined || t1 === undefined || t0 <= 0 || t1 <= 0) return undefined;
  return Math.log(t1 / t0) / Math.log(n1 / n0);
}

export function scalingTable(family: string, label: string, sizes: number[], ms: Measurement[], engines: string[], out: (s: string) => void): Record<string, { ns: (number | undefined)[]; slope?: number }> {
  out(`\n${family}: ${label}`);
  out([pad("engine", 12, true), ...sizes.map((n) => pad(`n=${n}`, 11)), pad("slope", 7), pad("last step", 10)].join(" "));
  const res: Record<string, { ns: (number | undefined)[]; slope?: number }> = {};
  for (const e of engines) {
    const ns = sizes.map((n) => ms.find((m) => m.workload.size === n)?.figures[e]?.ns);
    const known = sizes.map((n, i) => [n, ns[i]] as const).filter(([, t]) => t !== undefined) as [number, number][];
    // Least-squares slope of log t on log n over the measured sizes.
    let s: number | undefined;
    if (known.length >= 2) {
      const xs = known.map(([n]) => Math.log(n));
      const ys = known.map(([, t]) => Math.log(t));
      const mx = xs.reduce((a, b) => a + b) / xs.length;
      const my = ys.reduce((a, b) => a + b) / ys.length;
      s = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
    }
    const last = known.length >= 2 ? slope(known[known.length - 2][0], known[known.length - 2][1], known[known.length - 1][0], known[known.length - 1][1]) : undefined;
    res[e] = { ns, slope: s };
    out([pad(e, 12, true), ...ns.map((t) => pad(us(t), 11)), pad(s === undefined ? "-" : s.toFixed(2), 7), pad(last === undefined ? "-" : last.toFixed(2), 10)].join(" "));
  }
  return res;
}
