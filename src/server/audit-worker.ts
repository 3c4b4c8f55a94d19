// An audit worker thread (AuditPool in audit.ts starts a WorkerPool of them): holds the policy of
// the current audit run (templates and constraints compiled at the audit enforcement point, and
// data.inventory as it was when the run started) and reviews batches of objects against it.
import { serveWorker } from "./workerside.ts";
import { auditSnapshot } from "../gatekeeper/audit/policy.ts";
import { reviewItems } from "../gatekeeper/audit/audit.ts";
import type { AuditPoolReply, AuditPoolRequest, AuditPoolState } from "./audit.ts";
import type { Client } from "../gatekeeper/client.ts";

serveWorker<AuditPoolRequest, AuditPoolReply, AuditPoolState>((data) => {
  let client: Client | null = null;
  let run = 0;
  const apply = (u: AuditPoolState) => {
    // A new set of Gatekeeper objects is compiled; otherwise only the inventory changes.
    if (u.objects) client = auditSnapshot(u.objects, { k8sNativeValidation: u.k8sNativeValidation }).client;
    client?.setInventoryDoc(u.inventory);
    run = u.run;
  };
  apply(data.state as AuditPoolState);
  return {
    update: apply,
    run: async (req, flag) => {
      if (!client) return { error: "the audit worker has no policy" };
      if (req.run !== run) return { error: `the audit worker holds run ${run}, not ${req.run}` };
      return { outcomes: await reviewItems(client, req.items, req.timeoutMs, flag) };
    },
  };
});
