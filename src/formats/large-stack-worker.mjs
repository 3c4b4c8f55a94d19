// Worker thread for the large stack (src/builtins/support/large-stack.ts) when running from the
// sources (tests): registers tsx, then loads the TypeScript entry (large-stack-worker.ts), which
// imports the modules that register functions and answers calls. The build bundles the .ts entry
// into dist/formats/large-stack-worker.js instead.
import { workerData } from 'node:worker_threads';

try {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./large-stack-worker.ts');
} catch (e) {
  // the functions could not be loaded: answer every call with that fault
  const err = e instanceof Error ? e : new Error(String(e));
  workerData.port.on('message', (msg) => {
    workerData.port.postMessage({ id: msg.id, reply: { ok: false, fault: { name: 'StartupError', message: err.message, stack: err.stack } } });
    Atomics.store(workerData.shared, 0, msg.id);
    Atomics.notify(workerData.shared, 0);
  });
}
