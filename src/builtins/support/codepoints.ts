// Strings from arrays of code points of any length. `String.fromCodePoint(...cps)` passes every
// element as an argument, which exhausts the stack for long arrays (a pattern of 140,000
// characters): this converts in bounded chunks.

const CHUNK = 8192;

export function fromCodePoints(cps: readonly number[]): string {
  if (cps.length <= CHUNK) return String.fromCodePoint(...cps);
  let out = "";
  for (let i = 0; i < cps.length; i += CHUNK) out += String.fromCodePoint(...cps.slice(i, i + CHUNK));
  return out;
}

/** Append every element of `items` to `out` (no argument spreading, whatever the length). */
export function appendAll<T>(out: T[], items: readonly T[], from = 0): void {
  for (let i = from; i < items.length; i++) out.push(items[i]!);
}
