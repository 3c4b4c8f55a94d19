// Test-case reduction. A candidate is "interesting" when it still fails the same way (the caller
// decides: same crash signature, or still a hang). Recipes are shrunk by bisecting their size
// parameter; texts (Rego modules, config files) by delta debugging over lines, then characters;
// builtin arguments structurally (fewer elements, shorter strings, shallower nesting).

import type { FuzzCase } from "./targets.ts";
import type { Enc } from "./values.ts";

export type Oracle = (c: FuzzCase) => Promise<boolean>;

export interface MinimizeLimits {
  /** Stop after this many oracle calls. */
  maxTests: number;
  /** Stop after this much wall time (ms). */
  maxMs: number;
}

class Budget {
  tests = 0;
  private end: number;
  constructor(private lim: MinimizeLimits) {
    this.end = Date.now() + lim.maxMs;
  }
  get exhausted(): boolean {
    return this.tests >= this.lim.maxTests || Date.now() > this.end;
  }
}

/** Delta debugging (complements only): the smallest sub-list of `units` that stays interesting. */
export async function ddmin<T>(units: T[], test: (u: T[]) => Promise<boolean>, budget: { exhausted: boolean }): Promise<T[]> {
  let n = 2;
  while (units.length >= 2 && !budget.exhausted) {
    const chunk = Math.ceil(units.length / n);
    let reduced = false;
    for (let i = 0; i < n && !budget.exhausted; i++) {
      const cand = [...units.slice(0, i * chunk), ...units.slice((i + 1) * chunk)];
      if (cand.length === units.length) continue;
      if (await test(cand)) {
        units = cand;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= units.length) break;
      n = Math.min(units.length, n * 2);
    }
  }
  return units;
}

async function minimizeText(text: string, rebuild: (t: string) => FuzzCase, oracle: Oracle, budget: Budget): Promise<string> {
  const test = async (t: string) => {
    budget.tests++;
    return oracle(rebuild(t));
  };
  // Lines first, then characters (in chunks for long texts).
  const lines = text.split(/(?<=\n)/);
  if (lines.length > 1) text = (await ddmin(lines, (u) => test(u.join("")), budget)).join("");
  if (text.length <= 20000) text = (await ddmin([...text], (u) => test(u.join("")), budget)).join("");
  return text;
}

/** Smallest n in [1, n] that stays interesting, assuming monotonicity. */
async function bisectSize(n: number, test: (n: number) => Promise<boolean>, budget: Budget): Promise<number> {
  let lo = 0; // known not interesting (or untested floor)
  let hi = n; // known interesting
  while (hi - lo > 1 && !budget.exhausted) {
    const mid = Math.floor((lo + hi) / 2);
    if (mid < 1) break;
    if (await test(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

// ---- Structural reduction of builtin arguments -------------------------------------------------

function reductions(e: Enc, out: Enc[], limit: number): void {
  if (out.length >= limit) return;
  if (e === null || typeof e === "boolean") return;
  if (typeof e === "number") {
    if (e !== 0) out.push(0);
    if (!Number.isInteger(e)) out.push(Math.trunc(e));
    return;
  }
  if (typeof e === "string") {
    if (e.length > 1) {
      const h = Math.floor(e.length / 2);
      out.push(e.slice(0, h), e.slice(h));
      if (e.length <= 48) for (let i = 0; i < e.length && out.length < limit; i++) out.push(e.slice(0, i) + e.slice(i + 1));
    } else if (e.length === 1) out.push("");
    return;
  }
  if (Array.isArray(e)) {
    if (e.length > 1) {
      const h = Math.floor(e.length / 2);
      out.push(e.slice(0, h), e.slice(h));
    }
    for (let i = 0; i < e.length && out.length < limit; i++) out.push([...e.slice(0, i), ...e.slice(i + 1)]);
    for (let i = 0; i < e.length && out.length < limit; i++) {
      const sub: Enc[] = [];
      reductions(e[i], sub, limit - out.length);
      for (const s of sub) out.push([...e.slice(0, i), s, ...e.slice(i + 1)]);
    }
    return;
  }
  if ("$set" in e) {
    const arr: Enc[] = [];
    reductions(e.$set, arr, limit - out.length);
    for (const a of arr) out.push({ $set: a as Enc[] });
    return;
  }
  if ("$obj" in e) {
    const es = e.$obj;
    if (es.length > 1) {
      const h = Math.floor(es.length / 2);
      out.push({ $obj: es.slice(0, h) }, { $obj: es.slice(h) });
    }
    for (let i = 0; i < es.length && out.length < limit; i++) out.push({ $obj: [...es.slice(0, i), ...es.slice(i + 1)] });
    for (let i = 0; i < es.length && out.length < limit; i++) {
      for (const side of [0, 1] as const) {
        const sub: Enc[] = [];
        reductions(es[i][side], sub, limit - out.length);
        for (const s of sub) {
          const entry: [Enc, Enc] = side === 0 ? [s, es[i][1]] : [es[i][0], s];
          out.push({ $obj: [...es.slice(0, i), entry, ...es.slice(i + 1)] });
        }
      }
    }
    return;
  }
  if ("$bigint" in e) {
    const d = e.$bigint.replace("-", "");
    if (d.length > 17) out.push({ $bigint: (e.$bigint.startsWith("-") ? "-" : "") + d.slice(0, Math.max(17, Math.floor(d.length / 2))) });
    return;
  }
  if ("$num" in e) return;
  if ("$rep" in e) {
    if (e.n > 1) out.push({ ...e, n: Math.floor(e.n / 2) }, { ...e, n: Math.floor((e.n * 3) / 4) });
    if (e.pre) out.push({ ...e, pre: undefined });
    if (e.suf) out.push({ ...e, suf: undefined });
    return;
  }
  if ("$deep" in e || "$wide" in e) {
    if (e.n > 1) out.push({ ...e, n: Math.floor(e.n / 2) }, { ...e, n: Math.floor((e.n * 3) / 4) });
    return;
  }
}

async function minimizeArgs(args: Enc[], rebuild: (a: Enc[]) => FuzzCase, oracle: Oracle, budget: Budget): Promise<Enc[]> {
  let cur = args;
  let progress = true;
  while (progress && !budget.exhausted) {
    progress = false;
    const cands: Enc[] = [];
    reductions(cur, cands, 300);
    for (const cand of cands) {
      if (budget.exhausted) break;
      budget.tests++;
      const c = cand as Enc[];
      if (c.length !== cur.length) continue; // keep the arity
      if (await oracle(rebuild(c))) {
        cur = c;
        progress = true;
        break;
      }
    }
  }
  return cur;
}

export async function minimizeCase(c: FuzzCase, oracle: Oracle, limits: MinimizeLimits): Promise<{ case: FuzzCase; tests: number }> {
  const budget = new Budget(limits);
  let cur: FuzzCase = structuredClone(c);
  const tryCase = async (cand: FuzzCase) => {
    budget.tests++;
    if (await oracle(cand)) {
      cur = cand;
      return true;
    }
    return false;
  };
  if (cur.target === "rego") {
    // Fewer queries, no input/data, when that still fails.
    if (cur.queries.length > 1) {
      for (const q of cur.queries) if (!budget.exhausted && (await tryCase({ ...(cur as typeof c & { target: "rego" }), queries: [q] }))) break;
    }
    if (cur.target === "rego" && cur.data !== undefined) await tryCase({ ...cur, data: undefined });
    if (cur.target === "rego" && cur.input !== undefined) await tryCase({ ...cur, input: undefined });
    if (cur.target === "rego" && cur.recipe) {
      const base = cur;
      const n = await bisectSize(base.recipe!.n, (n) => {
        budget.tests++;
        return oracle({ ...base, recipe: { gen: base.recipe!.gen, n } });
      }, budget);
      cur = { ...base, recipe: { gen: base.recipe!.gen, n } };
    } else if (cur.target === "rego" && cur.modules) {
      const base = cur;
      let mods = base.modules!;
      if (mods.length > 1) mods = await ddmin(mods, (m) => { budget.tests++; return oracle({ ...base, modules: m }); }, budget);
      for (let i = 0; i < mods.length; i++) {
        const m = mods.slice();
        m[i] = await minimizeText(mods[i], (t) => ({ ...base, modules: Object.assign(m.slice(), { [i]: t }) }), oracle, budget);
        mods = m;
      }
      cur = { ...base, modules: mods };
    }
  } else if (cur.target === "formats") {
    const base = cur;
    if (base.recipe) {
      const n = await bisectSize(base.recipe.n, (n) => {
        budget.tests++;
        return oracle({ ...base, recipe: { gen: base.recipe!.gen, n } });
      }, budget);
      cur = { ...base, recipe: { gen: base.recipe.gen, n } };
    } else {
      const t = await minimizeText(base.content ?? "", (t) => ({ ...base, content: t }), oracle, budget);
      cur = { ...base, content: t };
    }
  } else {
    const base = cur;
    if (base.mode === "literal") await tryCase({ ...base, mode: "input" });
    const b2 = cur as typeof base;
    if (b2.strict) await tryCase({ ...b2, strict: false });
    const b3 = cur as typeof base;
    const args = await minimizeArgs(b3.args, (a) => ({ ...b3, args: a }), oracle, budget);
    cur = { ...b3, args };
  }
  return { case: cur, tests: budget.tests };
}
