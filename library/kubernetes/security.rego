# Pod and container security: K8S-001 (privileged), K8S-002 (privilege escalation),
# K8S-003 (non-root), K8S-004 (read-only root filesystem), K8S-023 (hostPID), K8S-024 (hostIPC),
# K8S-025 (added capabilities), K8S-026 (drop ALL), K8S-028 (seccomp), K8S-029 (env secrets).
package kubernetes.security

import data.portcullis_lib.config
import data.portcullis_lib.kubernetes as k8s

deny contains r if {
	some r in config.report(findings, "deny")
}

warn contains r if {
	some r in config.report(findings, "warn")
}

# K8S-001
findings contains k8s.container_finding(
	"K8S-001", c,
	"runs privileged; remove securityContext.privileged or set it to false",
) if {
	some c in k8s.containers
	c.container.securityContext.privileged == true
}

# K8S-002
findings contains k8s.container_finding(
	"K8S-002", c,
	"may escalate privileges; set securityContext.allowPrivilegeEscalation: false",
) if {
	some c in k8s.containers
	not c.container.securityContext.allowPrivilegeEscalation == false
}

# K8S-003
findings contains k8s.container_finding(
	"K8S-003", c,
	"may run as root; set securityContext.runAsNonRoot: true (on the container or the pod)",
) if {
	some c in k8s.containers
	not _run_as_non_root(c)
}

# (A helper rule: in `not f(x) == v` OPA evaluates f(x) outside the negation.)
_run_as_non_root(c) if k8s.effective_security(c, "runAsNonRoot") == true

findings contains k8s.container_finding(
	"K8S-003", c,
	"runs as UID 0; set securityContext.runAsUser to a non-zero UID (e.g. 10001)",
) if {
	some c in k8s.containers
	k8s.effective_security(c, "runAsUser") == 0
}

# K8S-004
findings contains k8s.container_finding(
	"K8S-004", c,
	"has a writable root filesystem; set securityContext.readOnlyRootFilesystem: true (mount an emptyDir for paths that need writes)",
) if {
	some c in k8s.containers
	not c.container.securityContext.readOnlyRootFilesystem == true
}

# K8S-023, K8S-024
findings contains k8s.workload_finding(
	"K8S-023", w,
	"shares the host's process namespace; remove spec.hostPID or set it to false",
) if {
	some w in k8s.workloads
	w.spec.hostPID == true
}

findings contains k8s.workload_finding(
	"K8S-024", w,
	"shares the host's IPC namespace; remove spec.hostIPC or set it to false",
) if {
	some w in k8s.workloads
	w.spec.hostIPC == true
}

# K8S-025: capabilities.add must stay within data.portcullis.kubernetes.allowed_capabilities.
allowed_capabilities := {capability(c) | some c in config.param(["kubernetes", "allowed_capabilities"], ["NET_BIND_SERVICE"])}

capability(name) := trim_prefix(upper(name), "CAP_")

findings contains k8s.container_finding("K8S-025", c, sprintf(
	"adds capability %s; remove it from securityContext.capabilities.add (allowed: %s)",
	[cap, _allowed_text],
)) if {
	some c in k8s.containers
	some added in object.get(c.container, ["securityContext", "capabilities", "add"], [])
	cap := capability(added)
	not cap in allowed_capabilities
}

_allowed_text := concat(", ", sort(allowed_capabilities)) if count(allowed_capabilities) > 0

else := "none"

# K8S-026
findings contains k8s.container_finding(
	"K8S-026", c,
	"does not drop all capabilities; set securityContext.capabilities.drop: [\"ALL\"] and add back only what it needs",
) if {
	some c in k8s.containers
	dropped := {capability(d) | some d in object.get(c.container, ["securityContext", "capabilities", "drop"], [])}
	not "ALL" in dropped
}

# K8S-028
findings contains k8s.container_finding(
	"K8S-028", c,
	"has no seccomp profile; set securityContext.seccompProfile.type: RuntimeDefault (on the pod or the container)",
) if {
	some c in k8s.containers
	not k8s.effective_security(c, "seccompProfile")
}

findings contains k8s.container_finding("K8S-028", c, sprintf(
	"uses seccomp profile type '%s'; set securityContext.seccompProfile.type to RuntimeDefault or Localhost",
	[t],
)) if {
	some c in k8s.containers
	t := object.get(k8s.effective_security(c, "seccompProfile"), "type", "")
	not t in {"RuntimeDefault", "Localhost"}
}

# K8S-029: literal values for secret-looking environment variables.
findings contains k8s.container_finding("K8S-029", c, sprintf(
	"sets %s as a literal env value; reference a Secret instead (env[].valueFrom.secretKeyRef)",
	[e.name],
)) if {
	some c in k8s.containers
	some e in object.get(c.container, "env", [])
	"value" in object.keys(e)
	config.secret_name(e.name)
}
