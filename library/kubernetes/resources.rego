# Container resources: K8S-005 (requests), K8S-006 (limits). Which resources are required is
# configurable: data.portcullis.kubernetes.required_requests / required_limits.
package kubernetes.resources

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

required_requests := config.param(["kubernetes", "required_requests"], ["cpu", "memory"])

required_limits := config.param(["kubernetes", "required_limits"], ["cpu", "memory"])

_findings contains k8s.container_finding("K8S-005", c, sprintf(
	"has no %s request; set resources.requests.%s",
	[res, res],
)) if {
	some c in k8s.containers
	some res in required_requests
	not _set(c.container, "requests", res)
}

_findings contains k8s.container_finding("K8S-006", c, sprintf(
	"has no %s limit; set resources.limits.%s",
	[res, res],
)) if {
	some c in k8s.containers
	some res in required_limits
	not _set(c.container, "limits", res)
}

_set(container, kind, res) if {
	v := container.resources[kind][res]
	v != null
	v != ""
}

# K8S-049: ephemeral storage (container logs, emptyDir without a medium, writable layers).
_findings contains k8s.container_finding("K8S-049", c, sprintf(
	"has no ephemeral-storage %s; set resources.%s.ephemeral-storage so a full disk cannot evict its neighbours",
	[kind, kinds],
)) if {
	some c in k8s.containers
	some [kind, kinds] in [["request", "requests"], ["limit", "limits"]]
	not _set(c.container, kinds, "ephemeral-storage")
}

# K8S-085: each Namespace of the input has a ResourceQuota and a LimitRange (collections only).
_findings contains k8s.object_finding("K8S-085", r, sprintf(
	"has no %s in the input; add one to cap what the namespace's pods can use",
	[kind],
)) if {
	documents.collection
	some r in k8s.objects
	r.object.kind == "Namespace"
	some kind in ["ResourceQuota", "LimitRange"]
	count(object.get(k8s.by_kind_name, [kind, k8s.name(r.object)], {})) == 0
}
