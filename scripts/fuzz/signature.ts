// Crash and hang signatures: what makes two findings "the same bug". A signature names the target,
// the area (builtin, format, or source file of the Rego pipeline), the error class, the message with
// its variable parts blanked, and the innermost function in src/ (for a stack overflow: the
// function that recurs most in the stack).

import type { Outcome, Target } from "./targets.ts";

export function normalizeMessage(m: string): string {
  const first = m.split("\n")[0];
  // Messages that quote the input: keep the reason only.
  const re = /^Invalid regular expression: \/.*\/[a-z]*: (.*)$/s.exec(m);
  if (re) return `Invalid regular expression: ${re[1].slice(0, 60)}`;
  if (/ is not valid JSON|in JSON at position|JSON input/.test(first)) return "invalid JSON (JSON.parse)";
  return first
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, "S")
    .replace(/0x[0-9a-f]+|\d+(\.\d+)?(e[-+]?\d+)?/gi, "N")
    .replace(/\s+/g, " ")
    .slice(0, 120);
}

/** `fn@file` for each stack frame inside src/. */
export function srcFrames(stack: string): string[] {
  const out: string[] = [];
  for (const line of stack.split("\n")) {
    const m = /^\s*at (?:(.*?) \()?(?:file:\/\/)?[^()]*\/src\/([^():]+\.ts)/.exec(line);
    if (m) out.push(`${(m[1] ?? "<anonymous>").replace(/^(new |Object\.|async )/, "")}@${m[2]}`);
  }
  return out;
}

export function isStackOverflow(e: { name: string; message: string }): boolean {
  return e.name === "RangeError" && /call stack/i.test(e.message);
}

/** For a recursion, the frame that repeats most often; otherwise the innermost one. */
export function keyFrame(frames: string[], overflow: boolean): string {
  if (!frames.length) return "-";
  if (!overflow) return frames[0];
  const counts = new Map<string, number>();
  for (const f of frames) counts.set(f, (counts.get(f) ?? 0) + 1);
  let best = frames[0];
  for (const [f, n] of counts) if (n > (counts.get(best) ?? 0)) best = f;
  return best;
}

/**
 * A recursion overflows wherever the stack happens to run out. A function that recurs into itself
 * (most of the frames) names the overflow; a cycle of mutually recursive functions (a
 * recursive-descent parser: term → array → term) is named by its file only, so that every kind
 * of nesting gives the same signature.
 */
export function overflowKey(frames: string[]): string {
  if (!frames.length) return "-";
  const top = keyFrame(frames, true);
  const n = frames.filter((f) => f === top).length;
  return n >= 0.6 * frames.length ? top : top.replace(/^.*@/, "");
}

export function crashSignature(target: Target, o: Extract<Outcome, { kind: "crash" }>): string {
  const overflow = isStackOverflow(o.error);
  const msg = overflow ? "stack overflow" : normalizeMessage(o.error.message);
  const frames = srcFrames(o.error.stack);
  const frame = overflow ? overflowKey(frames) : keyFrame(frames, false);
  return `${target} | ${o.area} | ${o.where} | ${o.error.name}: ${msg} | ${frame}`;
}

/**
 * A hang's signature. Where a stuck worker happens to be paused varies, so a hang in a recipe or a
 * builtin's own code is named by that recipe or builtin and the file it is stuck in; a hang in
 * shared code (or in a plain mutation) by the innermost function in src/. Frames from the
 * inspector look like "fn@src/rego/parser.ts:12".
 */
export function hangSignature(target: Target, area: string, frames: string[], own?: string): string {
  const src: { fn: string; file: string }[] = [];
  for (const f of frames) {
    const m = /^(.*)@src\/([^:]+\.ts)/.exec(f);
    if (m) src.push({ fn: m[1], file: m[2] });
  }
  const top = src[0];
  // A format's or builtin's own hang is in its own file: the recipe or builtin is the name. A Rego
  // recipe can hang in the parser, compiler, evaluator or value model: add the file.
  const key = own ? `${own}${top && target === "rego" ? ` in ${top.file}` : ""}` : top ? `${top.fn}@${top.file}` : "-";
  return `${target} | ${area} | hang | ${key}`;
}
