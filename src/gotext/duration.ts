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

/** Go's time.Duration.String(). */
export function goDuration(ns: number): string {
  ns = Math.round(ns);
  if (ns === 0) return "0s";
  const neg = ns < 0;
  if (neg) ns = -ns;
  const frac = (n: number, unit: number, digits: number) => {
    const whole = Math.floor(n / unit);
    const rest = n % unit;
    if (rest === 0) return String(whole);
    return `${whole}.${String(rest).padStart(digits, "0").replace(/0+$/, "")}`;
  };
  let s: string;
  if (ns < 1000) s = `${ns}ns`;
  else if (ns < 1e6) s = frac(ns, 1000, 3) + "µs";
  else if (ns < 1e9) s = frac(ns, 1e6, 6) + "ms";
  else {
    const totalSec = Math.floor(ns / 1e9);
    const nano = ns % 1e9;
    const h = Math.floor(totalSec / 3600);
    const m = Math.floor((totalSec % 3600) / 60);
    const sec = totalSec % 60;
    const secText = frac(sec * 1e9 + nano, 1e9, 9) + "s";
    s = h > 0 ? `${h}h${m}m${secText}` : m > 0 ? `${m}m${secText}` : secText;
  }
  return neg ? "-" + s : s;
}
