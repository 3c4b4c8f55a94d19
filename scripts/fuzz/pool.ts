// Worker processes with a watchdog.
//
// A hang in synchronous code (a parser loop, a backtracking regex) cannot be interrupted from
// inside the thread, so cases run in child processes. Before each case a worker writes the case
// index to a pipe (fd 3); the parent polls every worker and, when one case has used more than the
// budget of CPU time (from /proc/<pid>/stat; or ten times the budget of wall time, whichever comes
// first), records a hang, takes the stack of the stuck worker through the inspector when it can
// (SIGUSR1 starts the inspector even in a busy process, and Debugger.pause interrupts it), kills
// the worker and starts a new one. The rest of the job is resubmitted. A worker that dies (out of
// memory, a native crash) is handled the same way and recorded as a crash.

import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { REPO } from "./corpus.ts";
import { captureStack } from "./inspector.ts";
import { workerRuntime } from "./runtime.ts";
import type { JobMsg, CheckMsg, FindingMsg, Stats } from "./cases.ts";
import { emptyStats, addStats } from "./cases.ts";
import { quarantinable, type FuzzCase, type Outcome, type Target } from "./targets.ts";

const CLK_TCK = 100; // Linux USER_HZ

export interface PoolOptions {
  workers: number;
  /** CPU budget of one case, ms. */
  budgetMs: number;
  /** Deadline handed to Engine.query, ms. */
  evalTimeoutMs: number;
  /** Heap limit of a worker, MB. */
  heapMb: number;
  /** Hangs/deaths after which an area's cases are skipped for the rest of the run. */
  quarantineAfter: number;
  /** Take stacks of hung workers through the inspector. */
  hangStacks: boolean;
  /** Slow cases (over budget/8) after which an area's cases are skipped for the rest of the run. */
  slowLimit: number;
}

export interface HangInfo {
  kind: "hang" | "died";
  target: Target;
  index: number;
  /** For jobs: regenerate the case from (target, seed, index, parser). */
  job?: Omit<JobMsg, "type" | "id" | "quarantine" | "evalTimeoutMs" | "slowMs" | "slowLimit">;
  case?: FuzzCase;
  /** Stack of the stuck worker, innermost first: "fn@file:line". */
  frames: string[];
  cpuMs: number;
  wallMs: number;
  /** For deaths: exit code/signal and the end of stderr. */
  detail?: string;
}

export type CheckResult =
  | { kind: "ok"; cpuMs?: number }
  | { kind: "coded"; code: string; cpuMs?: number }
  | { kind: "crash"; outcome: Extract<Outcome, { kind: "crash" }>; signature: string }
  | { kind: "hang"; frames: string[] }
  | { kind: "died"; detail: string };

type JobSpec = Omit<JobMsg, "type" | "id" | "quarantine" | "evalTimeoutMs" | "slowMs" | "slowLimit">;

interface Task {
  id: number;
  msg: JobMsg | CheckMsg;
  job?: JobSpec;
  resolve: (r: unknown) => void;
}

function cpuTicks(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
  } catch {
    return NaN;
  }
}

class Worker {
  proc: ChildProcess;
  ready: Promise<void>;
  task: Task | null = null;
  stderr = "";
  private buf: Buffer = Buffer.alloc(0);
  progId = -1;
  progIndex = -1;
  obsId = -2;
  obsIndex = -2;
  obsWall = 0;
  obsTicks = 0;
  /** The task last sent to the process (a task is assigned before the process is ready). */
  sent: Task | null = null;
  readonly spawnedAt = Date.now();
  dead = false;
  /** Stuck: being inspected and killed; takes no new task. */
  retiring = false;
  onMessage: (m: { type: string; [k: string]: unknown }) => void = () => {};
  onExit: (code: number | null, sig: NodeJS.Signals | null) => void = () => {};

  constructor(opts: PoolOptions) {
    this.proc = spawn(
      process.execPath,
      ["--inspect-port=0", `--max-old-space-size=${opts.heapMb}`, ...workerRuntime().args],
      { cwd: REPO, stdio: ["ignore", "ignore", "pipe", "pipe", "ipc"], env: { ...process.env, NODE_OPTIONS: "", PORTCULLIS_FUZZ_REPO: REPO } },
    );
    this.proc.stderr!.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString("utf8")).slice(-8000);
    });
    const prog = this.proc.stdio[3] as NodeJS.ReadableStream;
    prog.on("data", (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      const n = Math.floor(this.buf.length / 8);
      if (n > 0) {
        this.progId = this.buf.readUInt32LE((n - 1) * 8);
        this.progIndex = this.buf.readUInt32LE((n - 1) * 8 + 4);
        this.buf = this.buf.subarray(n * 8);
      }
    });
    let readyResolve!: () => void;
    this.ready = new Promise((r) => (readyResolve = r));
    this.proc.on("message", (m: { type: string }) => {
      if (m.type === "ready") readyResolve();
      else this.onMessage(m as { type: string; [k: string]: unknown });
    });
    this.proc.on("exit", (code, sig) => {
      this.dead = true;
      readyResolve();
      this.onExit(code, sig);
    });
    this.proc.on("error", () => {});
  }

  kill(): void {
    this.dead = true;
    try {
      this.proc.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
}

export class Pool {
  private opts: PoolOptions;
  private workers: Worker[] = [];
  private queue: Task[] = [];
  private nextId = 1;
  private timer: NodeJS.Timeout;
  private closed = false;
  readonly quarantine = new Set<string>();
  /** Why each area was quarantined. */
  readonly quarantineWhy = new Map<string, string>();
  private strikes = new Map<string, number>();
  private slowCounts = new Map<string, number>();
  onFinding: (f: FindingMsg) => void = () => {};
  onHang: (h: HangInfo) => void = () => {};
  /** Area of a hung case (for quarantine); set by the runner, which can regenerate cases. */
  areaOf: (h: HangInfo) => string = () => "?";

  constructor(opts: PoolOptions) {
    // Limits travel to the workers as JSON: no Infinity.
    const finite = (x: number) => (Number.isFinite(x) ? x : 1e12);
    this.opts = { ...opts, slowLimit: finite(opts.slowLimit), quarantineAfter: finite(opts.quarantineAfter) };
    for (let i = 0; i < opts.workers; i++) this.workers.push(this.spawn());
    this.timer = setInterval(() => void this.watch(), 100);
  }

  private spawn(): Worker {
    const w = new Worker(this.opts);
    w.onMessage = (m) => this.handle(w, m);
    w.onExit = (code, sig) => void this.exited(w, code, sig);
    return w;
  }

  /** Run cases [start, end) of a target; resolves with their counters. */
  runJob(job: JobSpec): Promise<Stats> {
    return new Promise((resolve) => this.submitJob(job, resolve as (r: unknown) => void));
  }

  private submitJob(job: JobSpec, resolve: (r: unknown) => void): void {
    const id = this.nextId++;
    const msg: JobMsg = { type: "job", id, ...job, quarantine: [], evalTimeoutMs: this.opts.evalTimeoutMs, slowMs: this.opts.budgetMs / 8, slowLimit: this.opts.slowLimit };
    this.queue.push({ id, msg, job, resolve });
    this.dispatch();
  }

  /** Run one case with the watchdog. */
  check(c: FuzzCase): Promise<CheckResult> {
    return new Promise((resolve) => {
      const id = this.nextId++;
      this.queue.push({ id, msg: { type: "check", id, case: c, evalTimeoutMs: this.opts.evalTimeoutMs }, resolve: resolve as (r: unknown) => void });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (let i = 0; i < this.workers.length; i++) {
      const w = this.workers[i];
      if (w.task || w.retiring || this.queue.length === 0) continue;
      if (w.dead) {
        this.workers[i] = this.spawn();
        continue;
      }
      const t = this.queue.shift()!;
      w.task = t;
      if (t.msg.type === "job") t.msg.quarantine = [...this.quarantine];
      void w.ready.then(() => {
        if (w.dead || w.task !== t) return;
        w.obsId = -2;
        w.obsIndex = -2;
        w.obsWall = Date.now();
        w.obsTicks = cpuTicks(w.proc.pid!);
        w.sent = t;
        w.proc.send(t.msg);
      });
    }
    if (this.queue.length && this.workers.some((w) => w.dead && !w.task)) {
      this.workers = this.workers.map((w) => (w.dead && !w.task ? this.spawn() : w));
      this.dispatch();
    }
  }

  private handle(w: Worker, m: { type: string; [k: string]: unknown }): void {
    const t = w.task;
    if (m.type === "finding") this.onFinding(m as unknown as FindingMsg);
    else if (m.type === "jobDone" && t && t.id === m.id) {
      w.task = null;
      for (const [area, a] of Object.entries((m.stats as Stats).areas)) {
        if (!a.slow) continue;
        const n = (this.slowCounts.get(area) ?? 0) + a.slow;
        this.slowCounts.set(area, n);
        if (n >= this.opts.slowLimit && !this.quarantine.has(area) && quarantinable(area)) {
          this.quarantine.add(area);
          this.quarantineWhy.set(area, `${n} cases over ${this.opts.budgetMs / 8} ms`);
        }
      }
      t.resolve(m.stats);
      this.dispatch();
    } else if (m.type === "checked" && t && t.id === m.id) {
      w.task = null;
      const o = m.outcome as Outcome;
      // (with the CPU time the case took in the worker, start-up excluded)
      t.resolve(o.kind === "crash" ? { kind: "crash", outcome: o, signature: m.signature } : { ...o, cpuMs: m.cpuMs as number });
      this.dispatch();
    }
  }

  private async watch(): Promise<void> {
    const now = Date.now();
    for (const w of this.workers) {
      const t = w.task;
      // a task waiting for its process to start is not running yet: start-up is not a hang
      if (!t || w.dead) continue;
      if (w.sent !== t) {
        if (now - w.spawnedAt > 120_000) await this.stuck(w, t, "died", 0, now - w.spawnedAt, "the worker process did not start within 120 s");
        continue;
      }
      if (w.progId !== w.obsId || w.progIndex !== w.obsIndex) {
        w.obsId = w.progId;
        w.obsIndex = w.progIndex;
        w.obsWall = now;
        w.obsTicks = cpuTicks(w.proc.pid!);
        continue;
      }
      const wall = now - w.obsWall;
      if (wall < this.opts.budgetMs) continue;
      const cpuMs = ((cpuTicks(w.proc.pid!) - w.obsTicks) * 1000) / CLK_TCK;
      if (cpuMs >= this.opts.budgetMs || wall >= this.opts.budgetMs * 10) {
        await this.stuck(w, t, "hang", cpuMs, wall);
      }
    }
  }

  private async stuck(w: Worker, t: Task, kind: "hang" | "died", cpuMs: number, wallMs: number, detail?: string): Promise<void> {
    if (w.task !== t) return;
    w.task = null;
    w.retiring = true;
    const index = t.msg.type === "job" && w.progId === t.id ? w.progIndex : t.msg.type === "job" ? t.msg.start : 0;
    const frames = kind === "hang" && this.opts.hangStacks && !w.dead ? await captureStack(w.proc.pid!, () => w.stderr, REPO, undefined, workerRuntime().mapFrame) : [];
    w.kill();
    const h: HangInfo = {
      kind,
      target: t.msg.type === "job" ? t.msg.target : t.msg.case.target,
      index,
      job: t.job,
      case: t.msg.type === "check" ? t.msg.case : undefined,
      frames,
      cpuMs: Math.round(cpuMs),
      wallMs: Math.round(wallMs),
      detail,
    };
    if (t.msg.type === "job") {
      const area = this.areaOf(h);
      const n = (this.strikes.get(area) ?? 0) + 1;
      this.strikes.set(area, n);
      if (n >= this.opts.quarantineAfter && !this.quarantine.has(area) && quarantinable(area)) {
        this.quarantine.add(area);
        this.quarantineWhy.set(area, `${n} hangs/deaths`);
      }
      this.onHang(h);
      // Resubmit the cases around the stuck one; count the stuck one here.
      const job = t.job!;
      const parts: JobSpec[] = [];
      if (index > job.start) parts.push({ ...job, end: index });
      if (index + 1 < job.end) parts.push({ ...job, start: index + 1 });
      const own = emptyStats();
      own.run = 1;
      own.cpuMs = cpuMs;
      if (kind === "hang") own.hang = 1;
      else own.crash = 1;
      own.areas[area] = { run: 1, crash: 1, ms: wallMs, slow: 0 };
      Promise.all(parts.map((p) => new Promise<Stats>((res) => this.submitJob(p, res as (r: unknown) => void)))).then((ss) => {
        for (const s of ss) addStats(own, s);
        t.resolve(own);
      });
    } else {
      t.resolve(kind === "hang" ? { kind: "hang", frames } : { kind: "died", detail: detail ?? "" });
    }
    const i = this.workers.indexOf(w);
    if (i >= 0 && !this.closed) this.workers[i] = this.spawn();
    this.dispatch();
  }

  private async exited(w: Worker, code: number | null, sig: NodeJS.Signals | null): Promise<void> {
    const t = w.task;
    if (!t || this.closed) return;
    // Let the last progress bytes and stderr arrive.
    await new Promise((r) => setTimeout(r, 100));
    const lines = w.stderr.split("\n").filter((l) => l.trim() && !/Debugger|inspector|For help/.test(l));
    const fatal = lines.filter((l) => /FATAL ERROR|out of memory|Error:/i.test(l)).slice(0, 3);
    const tail = [...fatal, ...lines.slice(-8).filter((l) => !fatal.includes(l))].join("\n");
    await this.stuck(w, t, "died", 0, Date.now() - w.obsWall, `exit ${code ?? ""}${sig ? ` signal ${sig}` : ""}\n${tail}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    for (const w of this.workers) {
      if (!w.dead) {
        try {
          w.proc.send({ type: "exit" });
        } catch {
          // ignore
        }
        setTimeout(() => w.kill(), 2000).unref();
      }
    }
  }
}
