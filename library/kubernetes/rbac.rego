# RBAC: K8S-067 (wildcards), K8S-068 (reading Secrets), K8S-069 (escalate, bind, impersonate),
# K8S-070 (pods/exec, pods/attach, creating pods), K8S-071 (cluster-admin bindings), K8S-072
# (bindings to anonymous, unauthenticated or system:masters), K8S-073 (nodes/proxy, webhook
# configurations, CSR approval).
package kubernetes.rbac

import data.portcullis_lib.config
import data.portcullis_lib.kubernetes as k8s

# The package's findings (the `_findings` rules below), evaluated only when the input holds
# Kubernetes objects: other documents do not enter those rules at all.
findings := _findings if k8s.present

default findings := set()

deny := config.report(findings, "deny")

warn := config.report(findings, "warn")

exempted := config.exempted(findings)

# Every rule of every Role and ClusterRole: [object position, rule position].
role_rules := [[i, j] |
	some i, r in k8s.objects
	r.object.kind in {"Role", "ClusterRole"}
	some j, rule in object.get(r.object, "rules", [])
	is_object(rule)
]

_rule(ij) := k8s.objects[ij[0]].object.rules[ij[1]]

_list(rule, key) := [x | some x in object.get(rule, key, []); is_string(x)]

# grants(rule, group, verbs, resources): the rule allows one of the verbs on one of the
# resources of that API group (wildcards included: "*" verbs, resources or apiGroups).
grants(rule, group, verbs, resources) if {
	some g in _list(rule, "apiGroups")
	g in {group, "*"}
	some v in _list(rule, "verbs")
	v in (verbs | {"*"})
	some res in _list(rule, "resources")
	res in (resources | {"*"})
}

# K8S-067: "*" in verbs or apiGroups; "*" in resources of the core group or of every group ("*"
# over one named API group, e.g. the dynamic kinds of constraints.gatekeeper.sh, is allowed).
_findings contains k8s.object_finding("K8S-067", r, sprintf(
	"rule %d uses '*' in %s; list the %s it needs",
	[ij[1], key, key],
)) if {
	some ij in role_rules
	r := k8s.objects[ij[0]]
	some key in ["verbs", "apiGroups"]
	"*" in _list(_rule(ij), key)
}

_findings contains k8s.object_finding("K8S-067", r, sprintf(
	"rule %d uses '*' in resources of %s; list the resources it needs",
	[ij[1], group],
)) if {
	some ij in role_rules
	r := k8s.objects[ij[0]]
	rule := _rule(ij)
	"*" in _list(rule, "resources")
	some g in _list(rule, "apiGroups")
	group := _group_text(g)
}

_group_text("") := "the core API group"

_group_text("*") := "every API group"

# K8S-073 and K8S-068 skip rules limited to named objects (resourceNames).
_named(rule) if count(object.get(rule, "resourceNames", [])) > 0

# K8S-068
_findings contains k8s.object_finding("K8S-068", r, sprintf(
	"rule %d lets its subjects read every Secret (%s); grant get on named secrets (resourceNames) only",
	[ij[1], concat(", ", _list(_rule(ij), "verbs"))],
)) if {
	some ij in role_rules
	r := k8s.objects[ij[0]]
	rule := _rule(ij)
	grants(rule, "", {"get", "list", "watch"}, {"secrets"})
	not _named(rule)
}

# K8S-069
_findings contains k8s.object_finding("K8S-069", r, sprintf(
	"rule %d grants '%s', which lets its subjects gain permissions they do not have; remove it",
	[ij[1], v],
)) if {
	some ij in role_rules
	r := k8s.objects[ij[0]]
	some v in _list(_rule(ij), "verbs")
	v in {"escalate", "bind", "impersonate"}
}

# K8S-070
_findings contains k8s.object_finding("K8S-070", r, sprintf(
	"rule %d grants %s, a shell in (or a new) pod with its service account and secrets; remove it",
	[ij[1], what],
)) if {
	some ij in role_rules
	r := k8s.objects[ij[0]]
	rule := _rule(ij)
	some [group, verbs, resources, what] in [
		["", {"create", "get"}, {"pods/exec"}, "pods/exec"],
		["", {"create", "get"}, {"pods/attach"}, "pods/attach"],
		["", {"create"}, {"pods"}, "create pods"],
	]
	grants(rule, group, verbs, resources)
}

# K8S-073
_findings contains k8s.object_finding("K8S-073", r, sprintf(
	"rule %d grants %s; remove it",
	[ij[1], what],
)) if {
	some ij in role_rules
	r := k8s.objects[ij[0]]
	rule := _rule(ij)
	not _named(rule)
	some [group, verbs, resources, what] in [
		["", {"get", "create"}, {"nodes/proxy"}, "nodes/proxy (the kubelet API of every node)"],
		["admissionregistration.k8s.io", {"create", "update", "patch"}, {"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}, "changing admission webhooks"],
		["certificates.k8s.io", {"update", "patch"}, {"certificatesigningrequests/approval"}, "approving certificate requests"],
	]
	grants(rule, group, verbs, resources)
}

bindings contains r if {
	some r in k8s.objects
	r.object.kind in {"RoleBinding", "ClusterRoleBinding"}
}

# K8S-071
_findings contains k8s.object_finding(
	"K8S-071", r,
	"binds the cluster-admin ClusterRole; bind a role with only the permissions needed",
) if {
	some r in bindings
	r.object.roleRef.kind == "ClusterRole"
	r.object.roleRef.name == "cluster-admin"
}

# K8S-072
_findings contains k8s.object_finding("K8S-072", r, sprintf(
	"binds %s '%s'; bind named users, groups or service accounts only",
	[s.kind, s.name],
)) if {
	some r in bindings
	some s in object.get(r.object, "subjects", [])
	s.name in {"system:anonymous", "system:unauthenticated", "system:masters"}
}
