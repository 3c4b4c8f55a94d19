// The playground's Web Worker: the engine runs here, off the page's thread, so a policy that
// computes for long never freezes the tab; the page terminates this worker at its deadline and
// starts another (src/playground/page.ts). Messages: {id, op: "run" | "fmt" | "check", state,
// deadlineMs} in, {id, ok, result | error} out; {ready: true} once loaded.

import { run, runCheck, runFmt, type State } from "./api.ts";

interface Request {
  id: number;
  op: "run" | "fmt" | "check";
  state: State;
  deadlineMs: number;
}

const scope = self as unknown as { onmessage: ((e: MessageEvent<Request>) => void) | null; postMessage(m: unknown): void };

scope.onmessage = async (e) => {
  const { id, op, state, deadlineMs } = e.data;
  try {
    const result = op === "fmt" ? runFmt(state) : op === "check" ? runCheck(state) : await run(state, deadlineMs);
    scope.postMessage({ id, ok: true, result });
  } catch (err) {
    // A bug of the engine (never the policy's fault: those are answers): shown as such.
    scope.postMessage({ id, ok: false, error: `internal error: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}` });
  }
};

scope.postMessage({ ready: true });
