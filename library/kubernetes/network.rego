# Networking: K8S-017 (every workload selected by a NetworkPolicy — combined input only),
# K8S-022 (hostNetwork), K8S-027 (hostPort).
package kubernetes.network

import data.portcullis_lib.config
import data.portcullis_lib.documents
import data.portcullis_lib.kubernetes as k8s

deny contains r if {
	some r in config.report(findings, "deny")
}

warn contains r if {
	some r in config.report(findings, "warn")
}

# K8S-017: needs every document at once (conftest test --combine).
findings contains k8s.workload_finding("K8S-017", w, sprintf(
	"is not selected by any NetworkPolicy; add one in the same namespace whose podSelector matches the pod labels {%s}",
	[k8s.labels_text(w.pod_labels)],
)) if {
	documents.collection
	some w in k8s.workloads
	not _has_network_policy(w)
}

_has_network_policy(w) if {
	some r in k8s.objects
	r.object.kind == "NetworkPolicy"
	k8s.namespace(r.object) == k8s.namespace(w.object)
	k8s.selector_matches(r.object.spec.podSelector, w.pod_labels)
}

# K8S-022
findings contains k8s.workload_finding(
	"K8S-022", w,
	"uses the host's network namespace; remove spec.hostNetwork or set it to false",
) if {
	some w in k8s.workloads
	w.spec.hostNetwork == true
}

# K8S-027
findings contains k8s.container_finding("K8S-027", c, sprintf(
	"binds host port %v; remove ports[].hostPort and expose the port through a Service",
	[p.hostPort],
)) if {
	some c in k8s.containers
	some p in object.get(c.container, "ports", [])
	p.hostPort
	p.hostPort != 0
}
