# Networking: K8S-017 (every workload selected by a NetworkPolicy — combined input only),
# K8S-022 (hostNetwork), K8S-027 (hostPort).
package kubernetes.network

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

# K8S-017: needs every document at once (conftest test --combine).
_findings contains k8s.workload_finding("K8S-017", w, sprintf(
	"is not selected by any NetworkPolicy; add one in the same namespace whose podSelector matches the pod labels {%s}",
	[k8s.labels_text(w.pod_labels)],
)) if {
	documents.collection
	some w in k8s.workloads
	not _has_network_policy(w)
}

_has_network_policy(w) if k8s.selected_by("NetworkPolicy", w)

# K8S-022
_findings contains k8s.workload_finding(
	"K8S-022", w,
	"uses the host's network namespace; remove spec.hostNetwork or set it to false",
) if {
	some w in k8s.workloads
	w.spec.hostNetwork == true
}

# K8S-027
_findings contains k8s.container_finding("K8S-027", c, sprintf(
	"binds host port %v; remove ports[].hostPort and expose the port through a Service",
	[p.hostPort],
)) if {
	some c in k8s.containers
	some p in object.get(c.container, "ports", [])
	p.hostPort
	p.hostPort != 0
}

# K8S-047, K8S-048: container ports.
_findings contains k8s.container_finding(
	"K8S-047", c,
	"exposes port 22 (SSH); remove it and use kubectl exec or debug containers",
) if {
	some c in k8s.containers
	some p in object.get(c.container, "ports", [])
	p.containerPort == 22
}

_findings contains k8s.container_finding("K8S-048", c, sprintf(
	"listens on the privileged port %v; use a port of 1024 or above (and map it in the Service)",
	[p.containerPort],
)) if {
	some c in k8s.containers
	some p in object.get(c.container, "ports", [])
	is_number(p.containerPort)
	p.containerPort > 0
	p.containerPort < 1024
	p.containerPort != 22
}

# Services (core ones; Knative Services are workloads).
services contains r if {
	some r in k8s.objects
	r.object.kind == "Service"
	not k8s.knative_service(r.object)
}

# K8S-062..064
_findings contains k8s.object_finding(
	"K8S-062", r,
	"is of type NodePort, which opens the port on every node; use ClusterIP behind an Ingress or a LoadBalancer",
) if {
	some r in services
	r.object.spec.type == "NodePort"
}

_findings contains k8s.object_finding(
	"K8S-063", r,
	"is a LoadBalancer open to any source; set spec.loadBalancerSourceRanges to the clients' CIDRs",
) if {
	some r in services
	r.object.spec.type == "LoadBalancer"
	count(object.get(r.object.spec, "loadBalancerSourceRanges", [])) == 0
}

_findings contains k8s.object_finding("K8S-064", r, sprintf(
	"sets spec.externalIPs %v, which can intercept other traffic (CVE-2020-8554); remove them and use a LoadBalancer",
	[r.object.spec.externalIPs],
)) if {
	some r in services
	count(object.get(r.object.spec, "externalIPs", [])) > 0
}

# K8S-065: every Ingress host is covered by spec.tls.
_findings contains k8s.object_finding(
	"K8S-065", r,
	"serves plain HTTP (no spec.tls); add spec.tls with a certificate Secret for its hosts",
) if {
	some r in k8s.objects
	r.object.kind == "Ingress"
	count(object.get(r.object.spec, "tls", [])) == 0
}

_findings contains k8s.object_finding("K8S-065", r, sprintf(
	"has no TLS entry for host '%s'; add it to spec.tls[].hosts",
	[h],
)) if {
	some r in k8s.objects
	r.object.kind == "Ingress"
	tls := object.get(r.object.spec, "tls", [])
	count(tls) > 0
	some rule in object.get(r.object.spec, "rules", [])
	h := rule.host
	not _tls_host(tls, h)
}

_tls_host(tls, h) if {
	some t in tls
	h in object.get(t, "hosts", [])
}

# K8S-066: ingress-nginx snippet annotations run arbitrary nginx configuration.
_findings contains k8s.object_finding("K8S-066", r, sprintf(
	"sets the ingress-nginx annotation %s, which injects raw nginx configuration (CVE-2021-25742); remove it",
	[k],
)) if {
	some r in k8s.objects
	r.object.kind == "Ingress"
	some k, _ in k8s.annotations(r.object)
	startswith(k, "nginx.ingress.kubernetes.io/")
	endswith(k, "-snippet")
}

# K8S-077, K8S-078: selectors that match no pods of the input (collections only).
_findings contains k8s.object_finding("K8S-077", r, sprintf(
	"selects no pods of the input (selector {%s}); fix spec.selector or add the workload",
	[k8s.labels_text(r.object.spec.selector)],
)) if {
	documents.collection
	some r in services
	k8s.selector_of(r.object)
	not k8s.selects_pods(r.object)
}

_findings contains k8s.object_finding(
	"K8S-078", r,
	"selects no pods of the input; fix spec.podSelector or add the workload it is meant for",
) if {
	documents.collection
	some r in k8s.objects
	r.object.kind == "NetworkPolicy"
	sel := k8s.selector_of(r.object)

	# an empty podSelector means every pod of the namespace, present or future
	count(object.get(sel, "matchLabels", {})) + count(object.get(sel, "matchExpressions", [])) > 0
	not k8s.selects_pods(r.object)
}
