# Availability: K8S-007 (liveness probe), K8S-008 (readiness probe), K8S-015 (production
# replicas), K8S-016 (a PodDisruptionBudget per replicated workload — combined input only).
package kubernetes.availability

import data.portcullis_lib.config
import data.portcullis_lib.documents
import data.portcullis_lib.kubernetes as k8s

deny contains r if {
	some r in config.report(findings, "deny")
}

warn contains r if {
	some r in config.report(findings, "warn")
}

# K8S-007, K8S-008: long-running workloads' (non-init) containers.
findings contains k8s.container_finding(
	"K8S-007", c,
	"has no liveness probe; add livenessProbe (httpGet, tcpSocket, grpc or exec) so a hung process is restarted",
) if {
	some c in k8s.containers
	not c.init
	c.workload.object.kind in k8s.long_running_kinds
	not c.container.livenessProbe
}

findings contains k8s.container_finding(
	"K8S-008", c,
	"has no readiness probe; add readinessProbe so traffic only reaches ready pods",
) if {
	some c in k8s.containers
	not c.init
	c.workload.object.kind in k8s.long_running_kinds
	not c.container.readinessProbe
}

# K8S-015
min_replicas := config.param(["kubernetes", "production", "min_replicas"], 2)

replicated_kinds := {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"}

findings contains k8s.workload_finding("K8S-015", w, sprintf(
	"is a production workload with %d replica(s); set spec.replicas to at least %d",
	[n, min_replicas],
)) if {
	some w in k8s.workloads
	w.object.kind in replicated_kinds
	k8s.production(w.object)
	n := object.get(w.object.spec, "replicas", 1)
	n < min_replicas
}

# K8S-016: needs every document at once (conftest test --combine).
pdb_kinds := {"Deployment", "StatefulSet"}

findings contains k8s.workload_finding("K8S-016", w, sprintf(
	"has no PodDisruptionBudget; add one in the same namespace whose selector matches the pod labels {%s}",
	[k8s.labels_text(w.pod_labels)],
)) if {
	documents.collection
	some w in k8s.workloads
	w.object.kind in pdb_kinds
	not _has_pdb(w)
}

_has_pdb(w) if {
	some r in k8s.objects
	r.object.kind == "PodDisruptionBudget"
	k8s.namespace(r.object) == k8s.namespace(w.object)
	k8s.selector_matches(r.object.spec.selector, w.pod_labels)
}
