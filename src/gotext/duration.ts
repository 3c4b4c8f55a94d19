// Durations as Go's flags take them (time.ParseDuration's units), for --timeout flags.

export class DurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DurationError";
  }
}

/** Durations as Go writes them: 500ms, 5s, 1m30s, 1h (a bare number is seconds); milliseconds. */
export function parseDuration(s: string): number {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let used = 0;
  while ((m = re.exec(s)) !== null) {
    const n = Number(m[1]);
    const unit = m[2];
    total += unit === "ns" ? n / 1e6 : unit === "us" || unit === "µs" ? n / 1000 : unit === "ms" ? n : unit === "s" ? n * 1000 : unit === "m" ? n * 60000 : n * 3600000;
    used = re.lastIndex;
  }
  if (used !== s.length || s.length === 0) throw new DurationError(`invalid duration "${s}" (use e.g. 500ms, 5s, 1m)`);
  return total;
}
