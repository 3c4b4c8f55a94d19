// Helpers shared by the output formats: totals, the summary line, colours.

import type { CheckResultView, Write } from "./types.ts";

export interface Totals {
  tests: number;
  successes: number;
  warnings: number;
  failures: number;
  exceptions: number;
  skipped: number;
}

export function totals(results: readonly CheckResultView[]): Totals {
  const t: Totals = { tests: 0, successes: 0, warnings: 0, failures: 0, exceptions: 0, skipped: 0 };
  for (const r of results) {
    t.successes += r.successes;
    t.warnings += r.warnings.length;
    t.failures += r.failures.length;
    t.exceptions += r.exceptions.length;
    t.skipped += r.skipped.length;
  }
  t.tests = t.successes + t.warnings + t.failures + t.exceptions + t.skipped;
  return t;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** `N tests, P passed, W warnings, F failures, E exceptions` (and `, S skipped` when asked). */
export function summaryLine(t: Totals, withSkipped = false): string {
  let s = `${plural(t.tests, "test")}, ${t.successes} passed, ${plural(t.warnings, "warning")}, ${plural(t.failures, "failure")}, ${plural(t.exceptions, "exception")}`;
  if (withSkipped && t.skipped > 0) s += `, ${t.skipped} skipped`;
  return s;
}

export const COLORS = { red: 31, green: 32, yellow: 33, blue: 34, cyan: 36 } as const;

export function colorize(text: string, color: keyof typeof COLORS, noColor?: boolean): string {
  return noColor ? text : `\x1b[${COLORS[color]}m${text}\x1b[0m`;
}

/** The name results from standard input carry (conftest shows it as `-`). */
export const STDIN_NAME = "-";

/** The first line of a message (JUnit test names use only that). */
export function firstLine(msg: string): string {
  const i = msg.indexOf("\n");
  return i < 0 ? msg : msg.slice(0, i);
}

/** Run a renderer that writes piece by piece and return its whole text. */
export function collect(render: (write: Write) => void): string {
  const parts: string[] = [];
  render((s) => void parts.push(s));
  return parts.join("");
}
