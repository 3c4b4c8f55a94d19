// Memory of the synced data.inventory (docs/audit.md, "Referential data: memory"): not a timed test.
//
//   node --expose-gc --import tsx scripts/audit-inventory-memory.ts [--objects 10000,20000,40000]
//
// For each count, a fresh process syncs that many ConfigMaps, Services and Ingresses (a third
// each, plus one Namespace per 100 objects) through InventorySync.setKinds — the controller's
// path: discovery, an Informer per kind listing 500 per page, addToInventory — from an offline
// API server (test/support/inventory-objects.ts). It measures heapUsed after a full GC and RSS
// before and after, and prints one JSON line per count with the growth per 10,000 objects.
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const { values } = parseArgs({ options: { objects: { type: "string", default: "10000,20000,40000" }, one: { type: "string" } } });
const MiB = (b: number) => Math.round((b / 1048576) * 10) / 10;

if (values.one) {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    console.error("run with node --expose-gc");
    process.exit(2);
  }
  const total = Number(values.one);
  const { InventorySync } = await import("../src/gatekeeper/audit/sync.ts");
  const { OfflineInventoryServer, INVENTORY_KINDS, inventoryCounts } = await import("../test/support/inventory-objects.ts");
  const server = new OfflineInventoryServer(total);
  const sync = new InventorySync(server.asClient(), { resyncMs: 24 * 3600_000 });
  const settle = () => {
    for (let i = 0; i < 3; i++) gc();
  };
  settle();
  const before = { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss };
  const t0 = performance.now();
  await sync.setKinds(INVENTORY_KINDS.map(({ group, version, kind }) => ({ group, version, kind })));
  const seconds = (performance.now() - t0) / 1000;
  settle();
  const after = { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss };
  const counts = sync.counts();
  const want = inventoryCounts(total);
  const held = Object.values(counts).reduce((a, b) => a + b, 0);
  const wantHeld = Object.values(want).reduce((a, b) => a + b, 0);
  if (held !== wantHeld) {
    console.error(`synced ${held} objects, want ${wantHeld}`);
    process.exit(1);
  }
  const per10k = (b: number) => MiB((b * 10000) / wantHeld);
  console.log(
    JSON.stringify({
      objects: total,
      heldWithNamespaces: held,
      jsonMiB: MiB(server.bytesServed),
      syncSeconds: Math.round(seconds * 100) / 100,
      heapBeforeMiB: MiB(before.heap),
      heapAfterMiB: MiB(after.heap),
      heapGrowthMiB: MiB(after.heap - before.heap),
      heapPer10kMiB: per10k(after.heap - before.heap),
      rssBeforeMiB: MiB(before.rss),
      rssAfterMiB: MiB(after.rss),
      rssGrowthMiB: MiB(after.rss - before.rss),
      rssPer10kMiB: per10k(after.rss - before.rss),
    }),
  );
  await sync.stop();
} else {
  const self = fileURLToPath(import.meta.url);
  for (const n of values.objects.split(",").map(Number)) {
    if (!Number.isInteger(n) || n < 1) {
      console.error(`--objects: not a positive integer: ${n}`);
      process.exit(2);
    }
    const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", self, "--one", String(n)], { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
    if (r.status !== 0) process.exit(r.status ?? 1);
    process.stdout.write(r.stdout);
  }
}
