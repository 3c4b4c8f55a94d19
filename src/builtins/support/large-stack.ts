/**
 * Re-running a function on a larger stack.
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
 * The functions that may run there are registered by name
 * (`registerLargeStackFn`) by the modules that own them: the input parsers
 * (src/formats/index.ts), yaml.unmarshal (src/builtins/goyaml.ts), the data
 * loader (src/load/index.ts). They take and return text (their own encoding
 * of the result, JSON for documents: JSON.parse builds nested values
 * without recursion). The worker's entry (src/formats/large-stack-worker.ts)
 * imports those modules, so the same registrations exist there; a name,
 * unlike a module URL, survives bundling.
 *
 * The worker is started on first need (about a second: it loads the
 * TypeScript sources through tsx) and kept, unreferenced, for later calls.
 * The main thread waits for it with Atomics.wait, so callers stay
 * synchronous.
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import { lazyRequire } from '../../lazy.ts';

/** worker_threads, loaded when a document first needs the large stack (not at start-up). */
const threads = lazyRequire<typeof import('node:worker_threads')>('node:worker_threads');
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from '../../package.ts';

export { encodeDocument, decodeDocument } from './document.ts';

/** Stack of the worker thread, in MiB. */
export const LARGE_STACK_MB = 256;

/** How long the main thread waits for the worker before giving up. */
const WORKER_TIMEOUT_MS = 5 * 60 * 1000;

export function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack size/i.test(e.message);
}

/** A call of the function registered as `fn`, with its text argument. */
export interface LargeStackCall {
  fn: string;
  arg: string;
}

const FNS = new Map<string, (arg: string) => string>();

/** Make `fn` callable on the large stack under `name` (in the main thread and in the worker alike). */
export function registerLargeStackFn(name: string, fn: (arg: string) => string): void {
  FNS.set(name, fn);
}

type Reply = { ok: false; fault: { name: string; message: string; stack?: string } } | { ok: true; text: string };

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
  const { port1, port2 } = new (threads().MessageChannel)();
  const worker = new (threads().Worker)(workerFile(), {
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

/**
 * The worker's entry: from the sources (tests, through tsx) a small .mjs that registers tsx and
 * imports this file; from the build, dist/formats/large-stack-worker.js (scripts/build.ts bundles
 * it; this module itself may sit in a shared chunk, so the path starts at the package root).
 */
function workerFile(): URL {
  if (import.meta.url.endsWith('.ts')) return new URL('../../formats/large-stack-worker.mjs', import.meta.url);
  return pathToFileURL(join(PACKAGE_ROOT, 'dist', 'formats', 'large-stack-worker.js'));
}

function dropPool(p: Pool): void {
  if (pool === p) pool = undefined;
  p.port.close();
  void p.worker.terminate();
}

/**
 * Call the function registered as `call.fn` in the large-stack worker, synchronously; returns
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

function runInWorker(job: LargeStackCall): Reply {
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
  let msg = threads().receiveMessageOnPort(p.port);
  // replies of abandoned jobs are skipped
  while (msg && (msg.message as { id?: number }).id !== id) msg = threads().receiveMessageOnPort(p.port);
  if (!msg) {
    dropPool(p);
    throw new LargeStackFault('the large-stack worker sent no result');
  }
  const reply = (msg.message as { reply: Reply }).reply;
  if (!reply.ok && 'fault' in reply && reply.fault.name === 'StartupError') dropPool(p);
  return reply;
}

/** The worker's side: answer each call on the port, then wake the main thread. Called from the worker's entry. */
export function workerMain(data: { port: MessagePort; shared: Int32Array }): void {
  data.port.on('message', (msg: { id: number; job: LargeStackCall }) => {
    const reply = runCall(msg.job);
    data.port.postMessage({ id: msg.id, reply });
    Atomics.store(data.shared, 0, msg.id);
    Atomics.notify(data.shared, 0);
  });
}

function runCall(call: LargeStackCall): Reply {
  try {
    const fn = FNS.get(call.fn);
    if (fn === undefined) throw new Error(`no function ${call.fn} is registered in the large-stack worker`);
    return { ok: true, text: fn(call.arg) };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    return { ok: false, fault: { name: err.name, message: err.message, stack: err.stack } };
  }
}
