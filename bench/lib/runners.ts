// The engines a bench compares, behind one interface: run a workload N times, answer the CPU
// nanoseconds per evaluation and the last evaluation's results.
//   - Portcullis, in this process, from the library it is given (bench/lib/engine.ts: dist/ or
//     the sources): Engine.prepare(query) once, then eval({input}) in a loop,
//     timed with process.cpuUsage (user + system of the whole process, so GC threads count).
//   - OPA and regorus: long-lived peer processes (bench/peers/) speaking the line protocol
//     described in bench/peers/opa/main.go, each timing itself with getrusage.
//   - JSON.parse of the workload's input text: the floor a policy evaluation is compared with.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import * as SourceLibrary from "../../src/index.ts";
import type { PreparedQuery } from "../../src/index.ts";
import type { Workload } from "./workload.ts";

export interface RunResult {
  /** CPU nanoseconds per evaluation. */
  ns: number;
  result?: unknown;
}

export interface Runner {
  name: string;
  /** Evaluate the workload n times; throws an Error with the engine's message when it cannot. */
  run(w: Workload, n: number): Promise<RunResult>;
  close(): Promise<void>;
}

function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/** The shape every runner answers: bindings when the query binds variables, else expression values. */
export function shapeRows(rs: { bindings: Record<string, unknown>; expressions: { value: unknown }[] }[]): unknown[] {
  return rs.map((r) => (Object.keys(r.bindings).length > 0 ? r.bindings : r.expressions.map((e) => e.value)));
}

export class PortcullisRunner implements Runner {
  name = "Portcullis";
  private prepared = new Map<string, PreparedQuery>();
  /** Gatekeeper's builtin table as src/gatekeeper/externaldata.ts defines it: OPA's less http.send. */
  private gatekeeperBuiltins;

  constructor(private lib: typeof SourceLibrary = SourceLibrary) {
    this.gatekeeperBuiltins = lib.withoutBuiltins(["http.send"]);
  }

  private prepare(w: Workload): PreparedQuery {
    let pq = this.prepared.get(w.id);
    if (!pq) {
      // As OPA's default and Gatekeeper's driver: a builtin error makes the expression undefined.
      const e = new this.lib.Engine({ regoVersion: w.regoVersion, strictBuiltinErrors: false, ...(w.gatekeeper ? { builtins: this.gatekeeperBuiltins } : {}) });
      e.addModules(w.modules.map((m) => ({ ...m, regoVersion: w.regoVersion })));
      if (w.data) e.setData(w.data);
      e.compile();
      pq = e.prepare(w.query);
      this.prepared.set(w.id, pq);
    }
    return pq;
  }

  async run(w: Workload, n: number): Promise<RunResult> {
    const pq = this.prepare(w);
    const opts = { input: w.input };
    let rs = pq.eval(opts);
    if (rs instanceof Promise) throw new Error(`${w.name}: the query needs asynchronous builtins; the bench measures synchronous evaluation only`);
    const t0 = cpuNs();
    for (let i = 1; i < n; i++) rs = pq.eval(opts) as typeof rs;
    const t1 = cpuNs();
    // The first evaluation ran outside the timed loop; time one more inside it when n is 1.
    if (n === 1) {
      const s = cpuNs();
      rs = pq.eval(opts) as typeof rs;
      return { ns: cpuNs() - s, result: shapeRows(rs) };
    }
    return { ns: (t1 - t0) / (n - 1), result: shapeRows(rs) };
  }

  async close(): Promise<void> {
    this.prepared.clear();
  }
}

export class JsonParseRunner implements Runner {
  name = "JSON.parse";
  private texts = new Map<string, string>();

  async run(w: Workload, n: number): Promise<RunResult> {
    let text = this.texts.get(w.id);
    if (text === undefined) {
      text = w.parseText ?? JSON.stringify(w.input);
      this.texts.set(w.id, text);
    }
    let sink = 0;
    const t0 = cpuNs();
    for (let i = 0; i < n; i++) sink += JSON.parse(text) === null ? 1 : 0;
    const t1 = cpuNs();
    if (sink < 0) throw new Error("unreachable");
    return { ns: (t1 - t0) / n };
  }

  async close(): Promise<void> {}
}

/** Longest a peer may take to answer one request before the bench gives up on it. */
const PEER_REQUEST_TIMEOUT_MS = Number(process.env.BENCH_PEER_TIMEOUT_MS ?? 600_000);

export class PeerRunner implements Runner {
  private child: ChildProcessWithoutNullStreams;
  private sent = new Set<string>();
  private waiting: ((line: string | null) => void)[] = [];
  private lines: string[] = [];
  private stderr = "";
  private exited = false;

  constructor(
    readonly name: string,
    bin: string,
  ) {
    this.child = spawn(bin, [], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stderr.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.child.on("exit", () => {
      this.exited = true;
      for (const w of this.waiting.splice(0)) w(null);
    });
    this.child.on("error", (e) => {
      this.stderr += String(e);
    });
    createInterface({ input: this.child.stdout }).on("line", (l) => {
      const w = this.waiting.shift();
      if (w) w(l);
      else this.lines.push(l);
    });
  }

  private next(): Promise<string | null> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.exited) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} runner gave no answer in ${PEER_REQUEST_TIMEOUT_MS} ms`)), PEER_REQUEST_TIMEOUT_MS);
      this.waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  }

  async run(w: Workload, n: number): Promise<RunResult> {
    if (this.exited) throw new Error(`${this.name} runner exited: ${this.stderr.trim()}`);
    const req: Record<string, unknown> = { id: w.id, iterations: n };
    if (!this.sent.has(w.id)) {
      req.workload = { modules: w.modules, regoVersion: w.regoVersion, data: w.data ?? {}, input: w.input, query: w.query };
      this.sent.add(w.id);
    }
    this.child.stdin.write(JSON.stringify(req) + "\n");
    const line = await this.next();
    if (line === null) throw new Error(`${this.name} runner exited: ${this.stderr.trim() || "no message"}`);
    const ans = JSON.parse(line) as { ns?: number; result?: unknown; error?: string };
    if (ans.error !== undefined) throw new Error(ans.error);
    if (typeof ans.ns !== "number") throw new Error(`${this.name} runner answered without a time: ${line.slice(0, 200)}`);
    return { ns: ans.ns, result: ans.result };
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.child.on("exit", () => resolve()));
    this.child.stdin.end();
    await done;
  }
}
