import { gatekeeperWorkloads } from "./workloads/gatekeeper.ts";
import { loadLibrary } from "./lib/engine.ts";
const names = (process.env.W ?? "container-limits,memory-ratio-only").split(",");
const lib = await loadLibrary(console.error);
const { workloads } = gatekeeperWorkloads();
const N = Number(process.env.N ?? 20000);
for (const w of workloads.filter((x) => names.includes(x.name))) {
  const gk = lib.withoutBuiltins(["http.send"]);
  const e = new lib.Engine({ regoVersion: w.regoVersion, strictBuiltinErrors: false, builtins: gk });
  e.addModules(w.modules.map((m) => ({ ...m, regoVersion: w.regoVersion })));
  if (w.data) e.setData(w.data);
  e.compile();
  const pq = e.prepare(w.query);
  const opts = { input: w.input };
  let r: any = pq.eval(opts);
  for (let i = 0; i < 2000; i++) r = pq.eval(opts);
  const best: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < N / 5; i++) r = pq.eval(opts);
    const t = process.cpuUsage(t0);
    best.push(((t.user + t.system) / (N / 5)));
  }
  best.sort((a, b) => a - b);
  const j = JSON.stringify(w.input);
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) JSON.parse(j);
  const t = process.cpuUsage(t0);
  console.log(w.name, "min", best[0].toFixed(2), "med", best[2].toFixed(2), "µs; parse", ((t.user + t.system) / N).toFixed(2), "results", JSON.stringify(r).slice(0,300), "parse of review", (w.parseText??"").length);
}
