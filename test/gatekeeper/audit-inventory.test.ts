// data.inventory through the controller's sync path (InventorySync → Informer → addToInventory)
// from an offline API server: every generated object held once, in Gatekeeper's shapes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { InventorySync } from "../../src/gatekeeper/audit/sync.ts";
import { OfflineInventoryServer, INVENTORY_KINDS, inventoryCounts, inventoryObject, nsName } from "../support/inventory-objects.ts";

test("inventory: 3,000 synced ConfigMaps/Services/Ingresses and their Namespaces in Gatekeeper's shapes", async () => {
  const total = 3000;
  const server = new OfflineInventoryServer(total);
  const sync = new InventorySync(server.asClient(), { resyncMs: 3600_000 });
  try {
    await sync.setKinds(INVENTORY_KINDS.map(({ group, version, kind }) => ({ group, version, kind })));
    const want = inventoryCounts(total);
    assert.deepEqual(want, { Namespace: 30, ConfigMap: 1000, Service: 1000, Ingress: 1000 });
    assert.deepEqual(sync.counts(), { "/v1/Namespace": 30, "/v1/ConfigMap": 1000, "/v1/Service": 1000, "networking.k8s.io/v1/Ingress": 1000 });
    const inv = sync.inventory() as Record<string, any>;
    // cluster[apiVersion][Kind][name]
    assert.deepEqual(Object.keys(inv.cluster), ["v1"]);
    assert.equal(Object.keys(inv.cluster.v1.Namespace).length, 30);
    assert.deepEqual(inv.cluster.v1.Namespace[nsName(7)], inventoryObject("Namespace", 7, total));
    // namespace[ns][apiVersion][Kind][name]: every object where its namespace says, equal to what was listed
    assert.equal(Object.keys(inv.namespace).length, 30);
    const seen: Record<string, number> = { ConfigMap: 0, Service: 0, Ingress: 0 };
    for (const [ns, byGv] of Object.entries<any>(inv.namespace)) {
      assert.deepEqual(Object.keys(byGv).sort(), ["networking.k8s.io/v1", "v1"]);
      for (const [gv, byKind] of Object.entries<any>(byGv)) {
        for (const [kind, byName] of Object.entries<any>(byKind)) {
          for (const [name, o] of Object.entries<any>(byName)) {
            assert.equal(o.apiVersion, gv);
            assert.equal(o.kind, kind);
            assert.equal(o.metadata.name, name);
            assert.equal(o.metadata.namespace, ns);
            seen[kind]++;
          }
        }
      }
    }
    assert.deepEqual(seen, { ConfigMap: 1000, Service: 1000, Ingress: 1000 });
    const i = 1234 % 1000;
    assert.deepEqual(inv.namespace[nsName(i % 30)]["networking.k8s.io/v1"].Ingress[`ingress-${String(i).padStart(6, "0")}`], inventoryObject("Ingress", i, total));
    assert.deepEqual(inv.namespace[nsName(5)].v1.Service["service-000005"].spec.selector, { "app.kubernetes.io/name": "app-5", instance: "i-000005" });
    // dropping a kind empties its part of the inventory
    await sync.setKinds(INVENTORY_KINDS.filter((k) => k.kind !== "Ingress").map(({ group, version, kind }) => ({ group, version, kind })));
    assert.equal(Object.values<any>(inv.namespace).some((g) => g["networking.k8s.io/v1"]), false);
    assert.equal(Object.keys(inv.namespace[nsName(0)].v1.ConfigMap).length, 34);
  } finally {
    await sync.stop();
  }
});
