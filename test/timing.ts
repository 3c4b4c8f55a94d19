// Time bounds in tests that hold on a loaded machine without saying less.
//
// A test that claims "this stops at once" or "this is linear" makes a claim about work. Wall time
// measures that work plus whatever else the machine runs (npm test runs files in parallel; CI
// machines are shared), so a wall-clock bound either fails under load or is loosened until it
// asserts little. CPU time (process.cpuUsage: every thread of this process, the large-stack
// parser worker included) measures the work itself and barely moves with the load. Tests assert
// their bound on CPU time always, and the same bound on wall time when the machine is idle — the
// 1-minute load average under half the cores — where wall time is what a caller would see.
import assert from "node:assert/strict";
import { cpus, loadavg } from "node:os";

/** Is the machine idle enough for wall-clock bounds to mean what they say? */
export function idle(): boolean {
  return loadavg()[0] < cpus().length / 2;
}

export interface Measured<T> {
  value: T;
  cpuMs: number;
  wallMs: number;
}

/** CPU and wall milliseconds of f (its result, or its exception as `value`). */
export function measure<T>(f: () => T): Measured<T | unknown> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let value: T | unknown;
  try {
    value = f();
  } catch (e) {
    value = e;
  }
  const c = process.cpuUsage(c0);
  return { value, cpuMs: (c.user + c.system) / 1000, wallMs: performance.now() - t0 };
}

/** CPU and wall milliseconds of an async f. */
export async function measureAsync<T>(f: () => Promise<T>): Promise<Measured<T>> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await f();
  const c = process.cpuUsage(c0);
  return { value, cpuMs: (c.user + c.system) / 1000, wallMs: performance.now() - t0 };
}

/** A pair of clocks started now: `elapsed()` gives CPU and wall milliseconds since. */
export function clocks(): { elapsed(): { cpuMs: number; wallMs: number } } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  return {
    elapsed() {
      const c = process.cpuUsage(c0);
      return { cpuMs: (c.user + c.system) / 1000, wallMs: performance.now() - t0 };
    },
  };
}

/** Assert `ms` on the CPU time always, and on the wall time when the machine is idle. */
export function within(m: { cpuMs: number; wallMs: number }, ms: number, what = ""): void {
  const w = what ? `${what}: ` : "";
  assert.ok(m.cpuMs < ms, `${w}${m.cpuMs.toFixed(1)} ms of CPU (bound ${ms} ms)`);
  if (idle()) assert.ok(m.wallMs < ms, `${w}${m.wallMs.toFixed(1)} ms on an idle machine (bound ${ms} ms)`);
}
