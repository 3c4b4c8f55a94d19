/**
 * Re-running a parser on a larger stack.
 *
 * Several parsers (js-yaml, the HCL/HOCON/EDN/Jsonnet/CUE readers) descend
 * recursively. Node's main thread gives JavaScript about 1 MB of stack,
 * which a document nested a few thousand levels deep can exhaust although
 * it is within MAX_DEPTH (limits.ts). When a parser runs out of stack,
 * `parseWithLargeStack` runs the same parser again, synchronously, in a
 * worker thread whose stack is LARGE_STACK_MB: enough for MAX_DEPTH levels
 * in every parser (each checks MAX_DEPTH itself, so the worker never needs
 * more). Ordinary documents never take this path.
 *
 * The worker hands the value back as JSON text (JSON.parse builds nested
 * values without recursion); -0 is carried by a marker string.
 * `callWithLargeStack` runs any exported text-to-text function there the
 * same way (yaml.unmarshal uses it: src/builtins/goyaml.ts).
 *
 * The worker is started on first need (about a second: it loads the
 * TypeScript sources through tsx) and kept, unreferenced, for later calls.
 * The main thread waits for it with Atomics.wait, so callers stay
 * synchronous.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { ParseError, type InputParser } from './types.ts';

/** Stack of the worker thread, in MiB. */
export const LARGE_STACK_MB = 256;

/** How long the main thread waits for the worker before giving up. */
const WORKER_TIMEOUT_MS = 5 * 60 * 1000;

export function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack size/i.test(e.message);
}

export interface LargeStackJob {
  parser: string;
  content: string;
  file: string;
  protoDirs?: string[];
}

/** A call of `fn(arg)` exported by `module` (a file URL), which returns text (its own encoding of the result). */
export interface LargeStackCall {
  module: string;
  fn: string;
  arg: string;
}

type Reply =
  | { ok: true; json: string; negZero: string }
  | { ok: false; parseError: { reason: string; file: string; parser: string; line?: number; column?: number } }
  | { ok: false; fault: { name: string; message: string; stack?: string } }
  | { ok: true; text: string };

/** Thrown (in the main thread) when the worker failed for a reason that is not the input's fault. */
export class LargeStackFault extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LargeStackFault';
  }
}

interface Pool {
  worker: Worker;
  port: MessagePort;
  shared: Int32Array;
  seq: number;
}

/** One worker, started on first need and kept (unreferenced: it never keeps the process alive). */
let pool: Pool | undefined;

function getPool(): Pool {
  if (pool && pool.worker.threadId >= 0) return pool;
  const shared = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL('./large-stack-worker.mjs', import.meta.url), {
    execArgv: [],
    workerData: { port: port2, shared },
    transferList: [port2],
    resourceLimits: { stackSizeMb: LARGE_STACK_MB },
  });
  worker.unref();
  port1.unref();
  worker.on('error', () => {
    if (pool?.worker === worker) pool = undefined;
  });
  return (pool = { worker, port: port1, shared, seq: 0 });
}

function dropPool(p: Pool): void {
  if (pool === p) pool = undefined;
  p.port.close();
  void p.worker.terminate();
}

/** Run parser `job.parser` on the content in the large-stack worker, synchronously; returns its value or throws its ParseError. */
export function parseWithLargeStack(job: LargeStackJob): unknown {
  const reply = runInWorker(job);
  if (reply.ok) return 'json' in reply ? decode(reply.json, reply.negZero) : reply.text;
  if ('parseError' in reply) {
    const e = reply.parseError;
    throw new ParseError(e.reason, { file: e.file, parser: e.parser, line: e.line, column: e.column });
  }
  throw faultOf(reply.fault);
}

/**
 * Call `fn(arg)` of `module` in the large-stack worker, synchronously; returns
 * the text it returns. An exception it throws comes back as an Error with the
 * same name and message (a LargeStackFault when the worker itself failed).
 */
export function callWithLargeStack(call: LargeStackCall): string {
  const reply = runInWorker(call);
  if (reply.ok && 'text' in reply) return reply.text;
  if (!reply.ok && 'fault' in reply) {
    if (reply.fault.name === 'StartupError' || reply.fault.name === 'LargeStackFault') throw faultOf(reply.fault);
    const e = new Error(reply.fault.message);
    e.name = reply.fault.name;
    throw e;
  }
  throw new LargeStackFault('unexpected reply from the large-stack worker');
}

function faultOf(fault: { name: string; message: string; stack?: string }): LargeStackFault {
  const f = new LargeStackFault(`${fault.name}: ${fault.message}`);
  if (fault.stack) f.stack = fault.stack;
  return f;
}

function runInWorker(job: LargeStackJob | LargeStackCall): Reply {
  const p = getPool();
  const id = ++p.seq;
  Atomics.store(p.shared, 0, 0);
  p.port.postMessage({ id, job });
  const deadline = Date.now() + WORKER_TIMEOUT_MS;
  // wait in slices, so that a worker that died is noticed
  while (Atomics.load(p.shared, 0) !== id) {
    if (p.worker.threadId < 0) {
      dropPool(p);
      throw new LargeStackFault('the large-stack worker stopped');
    }
    if (Date.now() > deadline) {
      dropPool(p);
      throw new LargeStackFault(`the large-stack worker did not finish within ${WORKER_TIMEOUT_MS / 1000} s`);
    }
    Atomics.wait(p.shared, 0, Atomics.load(p.shared, 0), 100);
  }
  let msg = receiveMessageOnPort(p.port);
  // replies of abandoned jobs are skipped
  while (msg && (msg.message as { id?: number }).id !== id) msg = receiveMessageOnPort(p.port);
  if (!msg) {
    dropPool(p);
    throw new LargeStackFault('the large-stack worker sent no result');
  }
  const reply = (msg.message as { reply: Reply }).reply;
  if (!reply.ok && 'fault' in reply && reply.fault.name === 'StartupError') dropPool(p);
  return reply;
}

/** The worker's side: answer each job on the port, then wake the main thread. Called from large-stack-worker.mjs. */
export function workerMain(data: { port: MessagePort; shared: Int32Array }): void {
  data.port.on('message', async (msg: { id: number; job: LargeStackJob | LargeStackCall }) => {
    const reply = 'module' in msg.job ? await runCall(msg.job) : runJob(msg.job);
    data.port.postMessage({ id: msg.id, reply });
    Atomics.store(data.shared, 0, msg.id);
    Atomics.notify(data.shared, 0);
  });
}

let parsers: Map<string, InputParser> | undefined;
let setDirs: ((dirs: string[]) => void) | undefined;

/** Loads the parsers once (the worker imports them before it listens). */
export async function loadParsers(): Promise<void> {
  const { PARSERS } = await import('./registry.ts');
  setDirs = (await import('./textproto.ts')).setProtoFileDirs;
  parsers = new Map(PARSERS.map((x) => [x.name, x]));
}

async function runCall(call: LargeStackCall): Promise<Reply> {
  try {
    const mod = (await import(call.module)) as Record<string, unknown>;
    const fn = mod[call.fn];
    if (typeof fn !== 'function') throw new Error(`${call.module} exports no function ${call.fn}`);
    return { ok: true, text: String(fn(call.arg)) };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    return { ok: false, fault: { name: err.name, message: err.message, stack: err.stack } };
  }
}

function runJob(job: LargeStackJob): Reply {
  try {
    const parser = parsers?.get(job.parser);
    if (!parser) throw new Error(`unknown parser ${job.parser}`);
    if (job.protoDirs) setDirs?.(job.protoDirs);
    const value = parser.parse(job.content, job.file);
    const negZero = `\u0000-0:${randomBytes(8).toString('hex')}`;
    const json = JSON.stringify(value === undefined ? null : value, (_k, v) => (Object.is(v, -0) ? negZero : v));
    return { ok: true, json, negZero };
  } catch (e) {
    const exhausted = isStackOverflow(e) ? parsers?.get(job.parser)?.stackExhausted : undefined;
    if (exhausted) return { ok: false, parseError: { reason: exhausted, file: job.file, parser: job.parser } };
    if (e instanceof ParseError) {
      return { ok: false, parseError: { reason: e.reason, file: e.file, parser: e.parser, line: e.line, column: e.column } };
    }
    const err = e instanceof Error ? e : new Error(String(e));
    return { ok: false, fault: { name: err.name, message: err.message, stack: err.stack } };
  }
}

/** JSON.parse, then the -0 markers back to -0 (without recursion). */
function decode(json: string, negZero: string): unknown {
  const v: unknown = JSON.parse(json);
  if (!json.includes(JSON.stringify(negZero).slice(1, -1))) return v;
  if (v === negZero) return -0;
  const todo: object[] = [];
  if (v !== null && typeof v === 'object') todo.push(v);
  while (todo.length) {
    const o = todo.pop() as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const x = o[k];
      if (x === negZero) o[k] = -0;
      else if (x !== null && typeof x === 'object') todo.push(x);
    }
  }
  return v;
}
