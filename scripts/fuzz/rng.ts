// Deterministic pseudo-random numbers for the fuzzer. Every case is generated from its own
// generator, seeded by (run seed, target, case index), so any single case can be regenerated
// without replaying the ones before it (the parent does this for hangs).

/** 32-bit FNV-1a over a string, for deriving seeds from names. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** sfc32: small, fast, good enough for fuzzing, and fully deterministic. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0, index = 0) {
    this.a = seed >>> 0;
    this.b = (stream ^ 0x9e3779b9) >>> 0;
    this.c = (index ^ 0x243f6a88) >>> 0;
    this.d = 1;
    for (let i = 0; i < 15; i++) this.next();
  }

  static forCase(seed: number, target: string, index: number): Rng {
    return new Rng(seed, hash32(target), index);
  }

  /** Uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (n <= 0) return 0;
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  /** Pick by weight: [[weight, value], ...]. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of choices) total += w;
    let x = this.float() * total;
    for (const [w, v] of choices) {
      x -= w;
      if (x < 0) return v;
    }
    return choices[choices.length - 1][1];
  }

  /**
   * A size with a heavy tail: mostly small, sometimes large, rarely huge. `scale` is the typical
   * small size; the result never exceeds `max`.
   */
  size(scale: number, max: number): number {
    const r = this.float();
    let n: number;
    if (r < 0.7) n = this.int(scale + 1);
    else if (r < 0.93) n = this.int(scale * 20 + 1);
    else if (r < 0.99) n = this.int(scale * 400 + 1);
    else n = this.int(max + 1);
    return Math.min(n, max);
  }
}
