// An admission worker thread of the webhook process (server.ts starts a WorkerPool of them): holds
// the current Gatekeeper snapshot and answers AdmissionReviews off the main thread.
import { serveWorker } from "../workerside.ts";
import { AdmissionHandler, type AdmissionReply, type AdmissionRequest, type HandlerConfig, type PolicyUpdate, type ReportEvent } from "./handler.ts";

serveWorker<AdmissionRequest, AdmissionReply, PolicyUpdate>((data, emit) => {
  const h = new AdmissionHandler(data.config as HandlerConfig, data.initial as PolicyUpdate, (e: ReportEvent) => emit(e));
  // A new worker runs synthetic reviews while idle, so that its code is compiled when real ones
  // come in numbers (it serves meanwhile).
  void h.warm();
  return { update: (u) => h.update(u), run: (req, flag) => h.run(req, flag) };
});
