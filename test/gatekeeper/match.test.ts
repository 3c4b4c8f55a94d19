import { test } from "node:test";
import assert from "node:assert/strict";
import { matches, objectMatches, selectorMatches, wildcardMatches, validateMatch, MatchError, type Match } from "../../src/gatekeeper/match.ts";

const pod = (name: string, ns: string | undefined, labels: Record<string, string> = {}) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, ...(ns ? { namespace: ns } : {}), labels },
});
const nsObj = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels } });
const clusterRole = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "cr-a", labels: { app: "db" } } };
const deploy = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d", namespace: "prod-a" } };

const m = (match: Match, obj: object, ns?: object | null, source?: string) => objectMatches(match, obj as any, ns as any, source);

test("wildcards: exact, prefix*, *suffix, *infix*", () => {
  assert.ok(wildcardMatches("kube-system", "kube-system"));
  assert.ok(!wildcardMatches("kube-system", "kube-public"));
  assert.ok(wildcardMatches("kube-*", "kube-public"));
  assert.ok(!wildcardMatches("kube-*", "my-kube"));
  assert.ok(wildcardMatches("*-system", "gatekeeper-system"));
  assert.ok(!wildcardMatches("*-system", "system-x"));
  assert.ok(wildcardMatches("*od-*", "prod-a"));
  assert.ok(wildcardMatches("*", "anything"));
});

test("kinds: groups, kinds, wildcards and empty lists", () => {
  assert.ok(m({}, pod("p", "a")));
  assert.ok(m({ kinds: [] }, pod("p", "a")));
  assert.ok(m({ kinds: [{ apiGroups: [""], kinds: ["Pod"] }] }, pod("p", "a")));
  assert.ok(!m({ kinds: [{ apiGroups: [""], kinds: ["Pod"] }] }, deploy));
  assert.ok(m({ kinds: [{ apiGroups: ["apps"], kinds: ["Deployment"] }, { apiGroups: [""], kinds: ["Pod"] }] }, deploy));
  assert.ok(!m({ kinds: [{ apiGroups: [""], kinds: ["Deployment"] }] }, deploy), "group must match");
  assert.ok(m({ kinds: [{ apiGroups: ["*"], kinds: ["Deployment"] }] }, deploy));
  assert.ok(m({ kinds: [{ apiGroups: [""], kinds: ["*"] }] }, pod("p", "a")));
  assert.ok(!m({ kinds: [{ apiGroups: [""], kinds: ["*"] }] }, clusterRole));
  assert.ok(m({ kinds: [{ kinds: ["ClusterRole"] }] }, clusterRole), "no apiGroups = any group");
  assert.ok(m({ kinds: [{ apiGroups: ["rbac.authorization.k8s.io"] }] }, clusterRole), "no kinds = any kind");
});

test("scope: *, Cluster, Namespaced", () => {
  assert.ok(m({ scope: "*" }, clusterRole));
  assert.ok(m({ scope: "Cluster" }, clusterRole));
  assert.ok(m({ scope: "Cluster" }, nsObj("x")), "a Namespace is cluster-scoped");
  assert.ok(!m({ scope: "Cluster" }, pod("p", "a")));
  assert.ok(m({ scope: "Namespaced" }, pod("p", "a")));
  assert.ok(!m({ scope: "Namespaced" }, clusterRole));
  assert.ok(!m({ scope: "Namespaced" }, nsObj("x")));
});

test("namespaces and excludedNamespaces with wildcards", () => {
  assert.ok(m({ namespaces: ["prod-a"] }, pod("p", "prod-a")));
  assert.ok(!m({ namespaces: ["prod-a"] }, pod("p", "dev")));
  assert.ok(m({ namespaces: ["prod-*"] }, pod("p", "prod-b")));
  assert.ok(m({ namespaces: ["*-a"] }, pod("p", "prod-a")));
  assert.ok(m({ namespaces: ["prod-a"] }, nsObj("prod-a")), "a Namespace matches by its own name");
  assert.ok(!m({ namespaces: ["prod-a"] }, nsObj("dev")));
  assert.ok(m({ namespaces: ["prod-a"] }, clusterRole), "cluster-scoped objects are unaffected");
  assert.ok(!m({ excludedNamespaces: ["kube-*"] }, pod("p", "kube-system")));
  assert.ok(m({ excludedNamespaces: ["kube-*"] }, pod("p", "default")));
  assert.ok(!m({ excludedNamespaces: ["kube-system"] }, nsObj("kube-system")));
  assert.ok(m({ excludedNamespaces: ["kube-system"] }, clusterRole));
});

test("labelSelector: matchLabels and each matchExpressions operator", () => {
  const labels = { app: "web", tier: "front" };
  assert.ok(selectorMatches({}, labels));
  assert.ok(selectorMatches({ matchLabels: { app: "web" } }, labels));
  assert.ok(!selectorMatches({ matchLabels: { app: "db" } }, labels));
  assert.ok(selectorMatches({ matchExpressions: [{ key: "app", operator: "In", values: ["web", "api"] }] }, labels));
  assert.ok(!selectorMatches({ matchExpressions: [{ key: "app", operator: "In", values: ["db"] }] }, labels));
  assert.ok(!selectorMatches({ matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] }, labels));
  assert.ok(selectorMatches({ matchExpressions: [{ key: "app", operator: "NotIn", values: ["db"] }] }, labels));
  assert.ok(selectorMatches({ matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] }, labels), "NotIn holds when the key is absent");
  assert.ok(!selectorMatches({ matchExpressions: [{ key: "app", operator: "NotIn", values: ["web"] }] }, labels));
  assert.ok(selectorMatches({ matchExpressions: [{ key: "app", operator: "Exists" }] }, labels));
  assert.ok(!selectorMatches({ matchExpressions: [{ key: "zone", operator: "Exists" }] }, labels));
  assert.ok(selectorMatches({ matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] }, labels));
  assert.ok(!selectorMatches({ matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }, labels));
  assert.ok(!selectorMatches({ matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["back"] }] }, labels), "all requirements must hold");
  assert.throws(() => selectorMatches({ matchExpressions: [{ key: "a", operator: "Bogus" }] }, labels), MatchError);
  assert.ok(m({ labelSelector: { matchLabels: { app: "web" } } }, pod("p", "a", { app: "web" })));
  assert.ok(!m({ labelSelector: { matchLabels: { app: "web" } } }, pod("p", "a", {})));
});

test("namespaceSelector: Namespace from the inventory, Namespace objects, cluster-scoped objects", () => {
  const sel: Match = { namespaceSelector: { matchLabels: { env: "prod" } } };
  assert.ok(m(sel, pod("p", "prod-a"), nsObj("prod-a", { env: "prod" })));
  assert.ok(!m(sel, pod("p", "dev"), nsObj("dev", { env: "dev" })));
  assert.ok(m(sel, nsObj("prod-a", { env: "prod" })), "a Namespace is matched by its own labels");
  assert.ok(!m(sel, nsObj("dev")));
  assert.ok(m(sel, clusterRole), "cluster-scoped objects match");
  assert.throws(() => m(sel, pod("p", "unknown"), null), /missing Namespace/);
});

test("name: exact, wildcards, generateName", () => {
  assert.ok(m({ name: "web" }, pod("web", "a")));
  assert.ok(!m({ name: "web" }, pod("api", "a")));
  assert.ok(m({ name: "web-*" }, pod("web-1", "a")));
  assert.ok(m({ name: "*-a" }, clusterRole));
  const gen = { apiVersion: "v1", kind: "Pod", metadata: { generateName: "gen-", namespace: "a" } };
  assert.ok(m({ name: "gen-*" }, gen));
  assert.ok(!m({ name: "other-*" }, gen));
  assert.ok(!m({ name: "gen-" }, gen));
});

test("source: All, Original, Generated", () => {
  assert.ok(m({ source: "All" }, pod("p", "a"), null, "Original"));
  assert.ok(m({ source: "Original" }, pod("p", "a"), null, "Original"));
  assert.ok(!m({ source: "Generated" }, pod("p", "a"), null, "Original"));
  assert.ok(m({ source: "Generated" }, pod("p", "a"), null, "Generated"));
});

test("UPDATE: object or oldObject", () => {
  const match: Match = { labelSelector: { matchLabels: { app: "web" } } };
  assert.ok(matches(match, { object: pod("p", "a", {}), oldObject: pod("p", "a", { app: "web" }) }));
  assert.ok(matches(match, { object: pod("p", "a", { app: "web" }), oldObject: null }));
  assert.ok(!matches(match, { object: pod("p", "a", {}), oldObject: pod("p", "a", {}) }));
});

test("validateMatch reports field paths", () => {
  const errs = validateMatch({ kinds: { a: 1 }, namespaces: ["Bad_NS"], bogus: 1 });
  const msgs = errs.map((e) => e.message).join("\n");
  assert.match(msgs, /spec\.match\.kinds: Invalid value: "object": spec\.match\.kinds in body must be of type array: "object"/);
  assert.match(msgs, /spec\.match\.namespaces\[0\]: Invalid value: "Bad_NS"/);
  assert.match(msgs, /spec\.match\.bogus: unknown field/);
});
