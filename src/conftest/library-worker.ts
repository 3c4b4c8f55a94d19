// A worker thread of the built-in library's parallel run (./parallel.ts): loads the same policies
// and data as the main thread, then checks the batches of documents it is sent, one at a time,
// and answers each with its results already in the spools' line form (src/output/spool.ts).
import { parentPort, workerData } from "node:worker_threads";
import { loadPolicies } from "./runner.ts";
import { checkLibraryDocument, libraryDocumentLabel, libraryPlan, resolveNamespaces, withFile, type LibraryPlan, type NamespaceSinks } from "./evaluate.ts";
import { spoolLine } from "../output/spool.ts";
import type { Result } from "../output/types.ts";
import type { Engine } from "../rego/engine.ts";
import type { Value } from "../rego/value.ts";
import { ConftestError } from "./errors.ts";
import { unpackDocuments } from "./transfer.ts";
import type { BatchReply, BatchRequest, WorkerSetup } from "./parallel.ts";

const setup = workerData as WorkerSetup;
let state: { engine: Engine; lp: LibraryPlan; baseData: Value; file: string | undefined } | { error: string };

try {
  const loaded = loadPolicies(setup.options);
  const namespaces = resolveNamespaces(loaded.modules, setup.options.namespaces ?? ["main"], setup.options.allNamespaces ?? false);
  state = { engine: loaded.engine, lp: libraryPlan(loaded.modules, namespaces, loaded.engine.getData()), baseData: loaded.engine.getData(), file: undefined };
} catch (e) {
  state = { error: e instanceof Error ? e.message : String(e) };
}

/** A sink keeping spool lines. */
class Lines {
  readonly lines: string[] = [];
  push(r: Result): void {
    this.lines.push(spoolLine(r, setup.form));
  }
}

async function check(req: BatchRequest): Promise<BatchReply> {
  if ("error" in state) return { id: req.id, ok: false, at: 0, conftest: false, message: `the library's worker could not load the policies: ${state.error}` };
  const { engine, lp } = state;
  const fileKey = JSON.stringify(req.file);
  if (state.file !== fileKey) {
    engine.setData(withFile(state.baseData, req.file));
    state.file = fileKey;
  }
  unpackDocuments(req.docs, req.patches);
  const sinks: (NamespaceSinks & { failures: Lines; warnings: Lines; exceptions: Lines })[] = lp.namespaces.map(() => ({ successes: 0, failures: new Lines(), warnings: new Lines(), exceptions: new Lines() }));
  const outputs: string[][] = [];
  for (let d = 0; d < req.docs.length; d++) {
    try {
      const out = await checkLibraryDocument(engine, lp, req.docs[d], setup.timeoutMs, libraryDocumentLabel(req.start + d, req.filename), sinks);
      if (out.length) outputs.push(out);
    } catch (e) {
      if (e instanceof ConftestError) return { id: req.id, ok: false, at: d, conftest: true, message: e.message };
      return { id: req.id, ok: false, at: d, conftest: false, message: e instanceof Error ? `${e.name}: ${e.message}` : String(e), stack: e instanceof Error ? e.stack : undefined };
    }
    req.docs[d] = undefined;
  }
  return {
    id: req.id,
    ok: true,
    successes: sinks.map((s) => s.successes),
    failures: sinks.map((s) => s.failures.lines),
    warnings: sinks.map((s) => s.warnings.lines),
    exceptions: sinks.map((s) => s.exceptions.lines),
    outputs,
  };
}

parentPort!.on("message", (req: BatchRequest) => {
  void check(req).then(
    (reply) => parentPort!.postMessage(reply),
    (e: unknown) => parentPort!.postMessage({ id: req.id, ok: false, at: 0, conftest: false, message: e instanceof Error ? e.message : String(e) } satisfies BatchReply),
  );
});
