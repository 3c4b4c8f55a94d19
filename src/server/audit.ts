// GET /v1/audit: the complete report of the last audit (docs/audit.md). JSON by default,
// newline-delimited JSON with `Accept: application/x-ndjson`; streamed from the report file
// with backpressure, within a deadline. 503 (Retry-After) until an audit has completed.
import type { IncomingMessage, ServerResponse } from "node:http";
import { streamReport, type LastAudit } from "../gatekeeper/audit/manager.ts";

export const AUDIT_PATH = "/v1/audit";
/** Longest time one report download may take (a slow reader is cut off), ms. */
export const AUDIT_STREAM_DEADLINE_MS = 5 * 60_000;

export interface AuditEndpointLog {
  error(msg: string, fields: Record<string, unknown>): void;
}

function wantsNDJSON(req: IncomingMessage): boolean {
  const accept = String(req.headers.accept ?? "");
  return /application\/(x-)?ndjson|application\/jsonl/i.test(accept);
}

function fail(res: ServerResponse, code: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, { "Content-Type": "application/json", ...headers }).end(JSON.stringify({ code, message }) + "\n");
}

/** Answer a request for the last report. */
export async function serveAuditReport(req: IncomingMessage, res: ServerResponse, last: LastAudit | null, log?: AuditEndpointLog, deadlineMs = AUDIT_STREAM_DEADLINE_MS): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") return fail(res, 405, `method ${req.method} not allowed`, { Allow: "GET, HEAD" });
  if (!last) return fail(res, 503, "no audit has completed yet", { "Retry-After": "10" });
  const ndjson = wantsNDJSON(req);
  const headers = {
    "Content-Type": ndjson ? "application/x-ndjson" : "application/json",
    "X-Audit-Id": last.summary.auditId,
    "Cache-Control": "no-store",
  };
  if (req.method === "HEAD") {
    res.writeHead(200, headers).end();
    return;
  }
  const deadline = Date.now() + deadlineMs;
  let started = false;
  try {
    await streamReport(last.reportPath, ndjson ? "ndjson" : "json", async (chunk) => {
      if (res.destroyed) throw new Error("client went away");
      if (Date.now() > deadline) throw new Error(`report download past its ${deadlineMs} ms deadline`);
      if (!started) {
        res.writeHead(200, headers);
        started = true;
      }
      if (!res.write(chunk)) {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`report download past its ${deadlineMs} ms deadline`)), Math.max(0, deadline - Date.now()));
          const done = () => {
            clearTimeout(t);
            res.off("close", gone);
            resolve();
          };
          const gone = () => {
            clearTimeout(t);
            res.off("drain", done);
            reject(new Error("client went away"));
          };
          res.once("drain", done);
          res.once("close", gone);
        });
      }
    });
    if (!started) res.writeHead(200, headers);
    res.end();
  } catch (e) {
    const msg = (e as Error).message;
    log?.error("Audit report not served.", { path: AUDIT_PATH, err: msg });
    // The report was replaced under us before we opened it: ask again.
    if (!started) fail(res, (e as NodeJS.ErrnoException).code === "ENOENT" ? 503 : 500, (e as NodeJS.ErrnoException).code === "ENOENT" ? "the report is being replaced; retry" : msg, { "Retry-After": "1" });
    else res.destroy();
  }
}
