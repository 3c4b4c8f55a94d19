# Container resources: K8S-005 (requests), K8S-006 (limits). Which resources are required is
# configurable: data.portcullis.kubernetes.required_requests / required_limits.
package kubernetes.resources

import data.portcullis_lib.config
import data.portcullis_lib.kubernetes as k8s

deny contains r if {
	some r in config.report(findings, "deny")
}

warn contains r if {
	some r in config.report(findings, "warn")
}

required_requests := config.param(["kubernetes", "required_requests"], ["cpu", "memory"])

required_limits := config.param(["kubernetes", "required_limits"], ["cpu", "memory"])

findings contains k8s.container_finding("K8S-005", c, sprintf(
	"has no %s request; set resources.requests.%s",
	[res, res],
)) if {
	some c in k8s.containers
	some res in required_requests
	not _set(c.container, "requests", res)
}

findings contains k8s.container_finding("K8S-006", c, sprintf(
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
