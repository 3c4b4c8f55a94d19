# Pod and container security: K8S-001 (privileged), K8S-002 (privilege escalation),
# K8S-003 (non-root), K8S-004 (read-only root filesystem), K8S-023 (hostPID), K8S-024 (hostIPC),
# K8S-025 (added capabilities), K8S-026 (drop ALL), K8S-028 (seccomp), K8S-029 (env secrets).
package kubernetes.security

import data.portcullis_lib.config
import data.portcullis_lib.kubernetes as k8s

# The package's findings (the `_findings` rules below), evaluated only when the input holds
# Kubernetes objects: other documents do not enter those rules at all.
findings := _findings if k8s.present

default findings := set()

deny := config.report(findings, "deny")

warn := config.report(findings, "warn")

exempted := config.exempted(findings)

# K8S-001
_findings contains k8s.container_finding(
	"K8S-001", c,
	"runs privileged; remove securityContext.privileged or set it to false",
) if {
	some c in k8s.containers
	c.container.securityContext.privileged == true
}

# K8S-002
_findings contains k8s.container_finding(
	"K8S-002", c,
	"may escalate privileges; set securityContext.allowPrivilegeEscalation: false",
) if {
	some c in k8s.containers
	not c.container.securityContext.allowPrivilegeEscalation == false
}

# K8S-003
_findings contains k8s.container_finding(
	"K8S-003", c,
	"may run as root; set securityContext.runAsNonRoot: true (on the container or the pod)",
) if {
	some c in k8s.containers
	not _run_as_non_root(c)
}

# (A helper rule: in `not f(x) == v` OPA evaluates f(x) outside the negation.)
_run_as_non_root(c) if k8s.effective_security(c, "runAsNonRoot") == true

_findings contains k8s.container_finding(
	"K8S-003", c,
	"runs as UID 0; set securityContext.runAsUser to a non-zero UID (e.g. 10001)",
) if {
	some c in k8s.containers
	k8s.effective_security(c, "runAsUser") == 0
}

# K8S-004
_findings contains k8s.container_finding(
	"K8S-004", c,
	"has a writable root filesystem; set securityContext.readOnlyRootFilesystem: true (mount an emptyDir for paths that need writes)",
) if {
	some c in k8s.containers
	not c.container.securityContext.readOnlyRootFilesystem == true
}

# K8S-023, K8S-024
_findings contains k8s.workload_finding(
	"K8S-023", w,
	"shares the host's process namespace; remove spec.hostPID or set it to false",
) if {
	some w in k8s.workloads
	w.spec.hostPID == true
}

_findings contains k8s.workload_finding(
	"K8S-024", w,
	"shares the host's IPC namespace; remove spec.hostIPC or set it to false",
) if {
	some w in k8s.workloads
	w.spec.hostIPC == true
}

# K8S-025: capabilities.add must stay within data.portcullis.kubernetes.allowed_capabilities.
allowed_capabilities := {capability(c) | some c in config.param(["kubernetes", "allowed_capabilities"], ["NET_BIND_SERVICE"])}

capability(name) := trim_prefix(upper(name), "CAP_")

_findings contains k8s.container_finding("K8S-025", c, sprintf(
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
_findings contains k8s.container_finding(
	"K8S-026", c,
	"does not drop all capabilities; set securityContext.capabilities.drop: [\"ALL\"] and add back only what it needs",
) if {
	some c in k8s.containers
	dropped := {capability(d) | some d in object.get(c.container, ["securityContext", "capabilities", "drop"], [])}
	not "ALL" in dropped
}

# K8S-028
_findings contains k8s.container_finding(
	"K8S-028", c,
	"has no seccomp profile; set securityContext.seccompProfile.type: RuntimeDefault (on the pod or the container)",
) if {
	some c in k8s.containers
	not k8s.effective_security(c, "seccompProfile")
}

_findings contains k8s.container_finding("K8S-028", c, sprintf(
	"uses seccomp profile type '%s'; set securityContext.seccompProfile.type to RuntimeDefault or Localhost",
	[t],
)) if {
	some c in k8s.containers
	t := object.get(k8s.effective_security(c, "seccompProfile"), "type", "")
	not t in {"RuntimeDefault", "Localhost"}
}

# K8S-029: literal values for secret-looking environment variables, and private keys in any value.
_findings contains k8s.container_finding("K8S-029", c, sprintf(
	"has a private key in the literal value of env var %s; reference a Secret instead (env[].valueFrom.secretKeyRef)",
	[e.name],
)) if {
	some c in k8s.containers
	some e in object.get(c.container, "env", [])
	is_string(e.value)
	regex.match(`BEGIN [A-Z ]*PRIVATE KEY`, e.value)
	not config.secret_name(e.name)
}

_findings contains k8s.container_finding("K8S-029", c, sprintf(
	"sets %s as a literal env value; reference a Secret instead (env[].valueFrom.secretKeyRef)",
	[e.name],
)) if {
	some c in k8s.containers
	some e in object.get(c.container, "env", [])
	"value" in object.keys(e)
	config.secret_name(e.name)
}

# K8S-033: UID and GID above 10000 (container, else pod), so they do not collide with host users.
_findings contains k8s.container_finding("K8S-033", c, sprintf(
	"runs with %s %v; set securityContext.%s above 10000 (e.g. 10001)",
	[field, v, field],
)) if {
	some c in k8s.containers
	some field in ["runAsUser", "runAsGroup"]
	v := _id_or_unset(c, field)
	not _above(v, 10000)
}

_id_or_unset(c, field) := v if v := k8s.effective_security(c, field)

else := "unset"

_above(v, n) if {
	is_number(v)
	v > n
}

# K8S-034: the root group (GID 0) as primary, filesystem or supplemental group.
_findings contains k8s.container_finding(
	"K8S-034", c,
	"runs with the root group (runAsGroup: 0); set securityContext.runAsGroup to a non-zero GID",
) if {
	some c in k8s.containers
	k8s.effective_security(c, "runAsGroup") == 0
}

_findings contains k8s.workload_finding("K8S-034", w, sprintf(
	"gives its pods the root group (%s: 0); use a non-zero GID",
	[field],
)) if {
	some w in k8s.workloads
	some field, v in _pod_groups(w.spec)
	v == 0
}

_pod_groups(spec) := {"securityContext.fsGroup": spec.securityContext.fsGroup} if "fsGroup" in object.keys(object.get(spec, "securityContext", {}))

else := {}

_findings contains k8s.workload_finding(
	"K8S-034", w,
	"lists GID 0 in securityContext.supplementalGroups; remove it",
) if {
	some w in k8s.workloads
	0 in object.get(w.spec, ["securityContext", "supplementalGroups"], [])
}

# K8S-035: AppArmor unconfined (securityContext.appArmorProfile, or the beta annotation).
_findings contains k8s.container_finding(
	"K8S-035", c,
	"runs without AppArmor (profile Unconfined); use appArmorProfile.type: RuntimeDefault or Localhost",
) if {
	some c in k8s.containers
	k8s.effective_security(c, "appArmorProfile").type == "Unconfined"
}

_findings contains k8s.container_finding(
	"K8S-035", c,
	"runs without AppArmor (annotation 'unconfined'); use runtime/default or localhost/<profile>",
) if {
	some c in k8s.containers
	key := concat("", ["container.apparmor.security.beta.kubernetes.io/", k8s.container_name(c)])
	c.workload.pod_annotations[key] == "unconfined"
}

# K8S-036: SELinux user/role must be empty and type one of the container types (PSS baseline).
selinux_types := {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}

_findings contains k8s.container_finding("K8S-036", c, sprintf(
	"sets seLinuxOptions.%s '%s'; remove it (only the container_t types are allowed, and no user or role)",
	[field, v],
)) if {
	some c in k8s.containers
	opts := k8s.effective_security(c, "seLinuxOptions")
	some field, v in opts
	_bad_selinux(field, v)
}

_bad_selinux(field, v) if {
	field in {"user", "role"}
	v != ""
}

_bad_selinux("type", v) if not v in selinux_types

# K8S-037
_findings contains k8s.container_finding("K8S-037", c, sprintf(
	"sets procMount: %v; remove securityContext.procMount (Default masks /proc)",
	[c.container.securityContext.procMount],
)) if {
	some c in k8s.containers
	c.container.securityContext.procMount != "Default"
}

# K8S-038: sysctls outside the Pod Security Standards' safe set.
safe_sysctls := {
	"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
	"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
}

_findings contains k8s.workload_finding("K8S-038", w, sprintf(
	"sets the unsafe sysctl %s; remove it from securityContext.sysctls",
	[s.name],
)) if {
	some w in k8s.workloads
	some s in object.get(w.spec, ["securityContext", "sysctls"], [])
	not s.name in safe_sysctls
}

# K8S-039
_findings contains k8s.container_finding(
	"K8S-039", c,
	"is a Windows HostProcess container; remove securityContext.windowsOptions.hostProcess",
) if {
	some c in k8s.containers
	k8s.effective_security(c, "windowsOptions").hostProcess == true
}

_findings contains k8s.workload_finding(
	"K8S-039", w,
	"runs Windows HostProcess containers; remove securityContext.windowsOptions.hostProcess",
) if {
	some w in k8s.workloads
	w.spec.securityContext.windowsOptions.hostProcess == true
	count(object.get(w.spec, "containers", [])) == 0
}

# K8S-043: the API token is mounted by default; a pod that calls the API says so with an
# explicit automountServiceAccountToken: true.
_findings contains k8s.workload_finding(
	"K8S-043", w,
	"mounts the service account token by default; set spec.automountServiceAccountToken: false (or true, explicitly, if the pod calls the Kubernetes API)",
) if {
	some w in k8s.workloads
	not _automount_chosen(w.spec)
}

_automount_chosen(spec) if is_boolean(spec.automountServiceAccountToken)

# K8S-044, K8S-045
_findings contains k8s.workload_finding(
	"K8S-044", w,
	"runs as the namespace's default service account; set spec.serviceAccountName to a dedicated account",
) if {
	some w in k8s.workloads
	k8s.service_account(w.spec) == "default"
}

_findings contains k8s.workload_finding(
	"K8S-045", w,
	"uses the deprecated spec.serviceAccount field; use spec.serviceAccountName",
) if {
	some w in k8s.workloads
	w.spec.serviceAccount
	not w.spec.serviceAccountName
}

# K8S-046: secrets read into environment variables (leak through logs, crash dumps, /proc).
_findings contains k8s.container_finding("K8S-046", c, sprintf(
	"reads Secret '%s' into env var %s; mount the Secret as a volume instead",
	[e.valueFrom.secretKeyRef.name, e.name],
)) if {
	some c in k8s.containers
	some e in object.get(c.container, "env", [])
	e.valueFrom.secretKeyRef
}

_findings contains k8s.container_finding("K8S-046", c, sprintf(
	"loads Secret '%s' as environment variables (envFrom); mount the Secret as a volume instead",
	[f.secretRef.name],
)) if {
	some c in k8s.containers
	some f in object.get(c.container, "envFrom", [])
	f.secretRef
}
