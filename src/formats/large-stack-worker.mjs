// Worker thread for large-stack.ts: loads the TypeScript parsers (through tsx,
// as bin/portcullis.js does), then runs each parse it is sent on this
// thread's large stack.
import { workerData } from 'node:worker_threads';

try {
  const { register } = await import('tsx/esm/api');
  register();
  const { loadParsers, workerMain } = await import('./large-stack.ts');
  await loadParsers();
  workerMain(workerData);
} catch (e) {
  // the parsers could not be loaded: answer every job with that fault
  const err = e instanceof Error ? e : new Error(String(e));
  workerData.port.on('message', (msg) => {
    workerData.port.postMessage({ id: msg.id, reply: { ok: false, fault: { name: 'StartupError', message: err.message, stack: err.stack } } });
    Atomics.store(workerData.shared, 0, msg.id);
    Atomics.notify(workerData.shared, 0);
  });
}
