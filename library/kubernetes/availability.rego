# Availability: K8S-007 (liveness probe), K8S-008 (readiness probe), K8S-015 (production
# replicas), K8S-016 (a PodDisruptionBudget per replicated workload — combined input only).
package kubernetes.availability

import data.portcullis_lib.config
import data.portcullis_lib.documents
import data.portcullis_lib.kubernetes as k8s

# The package's findings (the `_findings` rules below), evaluated only when the input holds
# Kubernetes objects: other documents do not enter those rules at all.
findings := _findings if k8s.present

default findings := set()

deny := config.report(findings, "deny")

warn := config.report(findings, "warn")

exempted := config.exempted(findings)

# K8S-007, K8S-008: long-running workloads' (non-init) containers.
_findings contains k8s.container_finding(
	"K8S-007", c,
	"has no liveness probe; add livenessProbe (httpGet, tcpSocket, grpc or exec) so a hung process is restarted",
) if {
	some c in k8s.containers
	not c.init
	k8s.long_running(c.workload.object)
	not c.container.livenessProbe
}

_findings contains k8s.container_finding(
	"K8S-008", c,
	"has no readiness probe; add readinessProbe so traffic only reaches ready pods",
) if {
	some c in k8s.containers
	not c.init
	k8s.long_running(c.workload.object)
	not c.container.readinessProbe
}

# K8S-015
min_replicas := config.param(["kubernetes", "production", "min_replicas"], 2)

_findings contains k8s.workload_finding("K8S-015", w, sprintf(
	"is a production workload with %d replica(s); set spec.replicas to at least %d",
	[n, min_replicas],
)) if {
	some w in k8s.workloads
	w.object.kind in k8s.replicated_kinds
	k8s.production(w.object)
	n := object.get(w.object.spec, "replicas", 1)
	n < min_replicas
	not scaled_by_hpa(w)
}

# An HPA of the input scales w (its minReplicas is checked instead: K8S-074).
scaled_by_hpa(w) if count(object.get(hpa_targets, [w.object.kind, k8s.namespace(w.object), k8s.name(w.object)], {})) > 0

# K8S-016: needs every document at once (conftest test --combine).
pdb_kinds := {"Deployment", "StatefulSet", "Rollout", "CloneSet", "DeploymentConfig"}

_findings contains k8s.workload_finding("K8S-016", w, sprintf(
	"has no PodDisruptionBudget; add one in the same namespace whose selector matches the pod labels {%s}",
	[k8s.labels_text(w.pod_labels)],
)) if {
	documents.collection
	some w in k8s.workloads
	w.object.kind in pdb_kinds
	not _has_pdb(w)
}

_has_pdb(w) if k8s.selected_by("PodDisruptionBudget", w)

# K8S-050: an identical readiness and liveness probe restarts pods that are only busy.
_findings contains k8s.container_finding(
	"K8S-050", c,
	"has identical liveness and readiness probes; give the readiness probe its own check (a restart does not fix an overloaded pod)",
) if {
	some c in k8s.containers
	not c.init
	c.container.livenessProbe == c.container.readinessProbe
}

# K8S-051: a probe's named port must be one of the container's ports.
_findings contains k8s.container_finding("K8S-051", c, sprintf(
	"has a %s on port '%s', which the container does not declare; use a name from ports[].name",
	[probe, port],
)) if {
	some c in k8s.containers
	some probe in ["livenessProbe", "readinessProbe", "startupProbe"]
	some handler in ["httpGet", "tcpSocket", "grpc"]
	port := c.container[probe][handler].port
	is_string(port)
	not port in {p.name | some p in object.get(c.container, "ports", [])}
}

# K8S-054: replicated pods need anti-affinity or a topology spread to survive a node loss.
_findings contains k8s.workload_finding("K8S-054", w, sprintf(
	"runs %d replicas with nothing spreading them over nodes; add spec.topologySpreadConstraints or a podAntiAffinity on kubernetes.io/hostname",
	[n],
)) if {
	some w in k8s.workloads
	w.object.kind in k8s.replicated_kinds
	n := object.get(w.object.spec, "replicas", 1)
	n > 1
	count(object.get(w.spec, "topologySpreadConstraints", [])) == 0
	not w.spec.affinity.podAntiAffinity
}

# K8S-055
_findings contains k8s.workload_finding(
	"K8S-055", w,
	"uses the Recreate strategy, which stops every pod before starting new ones; use spec.strategy.type: RollingUpdate",
) if {
	some w in k8s.workloads
	w.object.kind == "Deployment"
	w.object.spec.strategy.type == "Recreate"
}

# K8S-084
_findings contains k8s.workload_finding(
	"K8S-084", w,
	"has no priorityClassName, so it is evicted as readily as any batch pod; set spec.priorityClassName",
) if {
	some w in k8s.workloads
	k8s.long_running(w.object)
	not w.spec.priorityClassName
}

# HorizontalPodAutoscalers.
hpas contains r if {
	some r in k8s.objects
	r.object.kind == "HorizontalPodAutoscaler"
}

# K8S-074
_findings contains k8s.object_finding("K8S-074", r, sprintf(
	"has minReplicas %d; set it to at least 2 so one pod's failure does not stop the service",
	[object.get(r.object.spec, "minReplicas", 1)],
)) if {
	some r in hpas
	object.get(r.object.spec, "minReplicas", 1) < 2
}

_findings contains k8s.object_finding("K8S-074", r, sprintf(
	"has maxReplicas %v not above minReplicas %v, so it cannot scale; raise maxReplicas",
	[r.object.spec.maxReplicas, object.get(r.object.spec, "minReplicas", 1)],
)) if {
	some r in hpas
	r.object.spec.maxReplicas <= object.get(r.object.spec, "minReplicas", 1)
}

# K8S-075, K8S-076 (collections only): HPAs by their target.
hpa_targets[kind][ns][n] contains i if {
	some i, r in k8s.objects
	r.object.kind == "HorizontalPodAutoscaler"
	kind := r.object.spec.scaleTargetRef.kind
	ns := k8s.namespace(r.object)
	n := r.object.spec.scaleTargetRef.name
}

_findings contains k8s.workload_finding("K8S-075", w, sprintf(
	"sets spec.replicas (%v) although a HorizontalPodAutoscaler scales it, so every apply resets the scale; remove spec.replicas",
	[w.object.spec.replicas],
)) if {
	documents.collection
	some w in k8s.workloads
	"replicas" in object.keys(w.object.spec)
	scaled_by_hpa(w)
}

_findings contains k8s.object_finding("K8S-076", r, sprintf(
	"targets %s/%s, which is not in the input; fix spec.scaleTargetRef",
	[ref.kind, ref.name],
)) if {
	documents.collection
	some r in hpas
	ref := r.object.spec.scaleTargetRef
	not k8s.defined(ref.kind, k8s.namespace(r.object), ref.name)
}

# K8S-080: a budget that allows no voluntary disruption blocks node drains.
_findings contains k8s.object_finding("K8S-080", r, sprintf(
	"allows no voluntary disruption (%s); node drains and upgrades will hang — allow at least one",
	[why],
)) if {
	some r in k8s.objects
	r.object.kind == "PodDisruptionBudget"
	some why in _blocking(r.object.spec)
}

_blocking(spec) := {sprintf("maxUnavailable: %v", [spec.maxUnavailable]) | spec.maxUnavailable in {0, "0%"}} | {sprintf("minAvailable: %v", [spec.minAvailable]) | spec.minAvailable == "100%"}

_findings contains k8s.object_finding(
	"K8S-080", r,
	"sets neither minAvailable nor maxUnavailable; set one (e.g. maxUnavailable: 1)",
) if {
	some r in k8s.objects
	r.object.kind == "PodDisruptionBudget"
	not "minAvailable" in object.keys(object.get(r.object, "spec", {}))
	not "maxUnavailable" in object.keys(object.get(r.object, "spec", {}))
}

# K8S-081 (collections only)
_findings contains k8s.object_finding(
	"K8S-081", r,
	"selects no pods of the input; fix spec.selector or add the workload it protects",
) if {
	documents.collection
	some r in k8s.objects
	r.object.kind == "PodDisruptionBudget"
	k8s.selector_of(r.object)
	not k8s.selects_pods(r.object)
}
