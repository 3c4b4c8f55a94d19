package kubernetes.rbac_test

import data.kubernetes.rbac
import data.portcullis_lib.testing as t

role := {
	"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
	"metadata": {"name": "reader", "namespace": "shop"},
	"rules": [{"apiGroups": [""], "resources": ["configmaps", "pods"], "verbs": ["get", "list", "watch"]}],
}

binding := {
	"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
	"metadata": {"name": "reader", "namespace": "shop"},
	"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
	"subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": "shop"}],
}

with_rule(rule) := t.put(role, "/rules/-", rule)

test_good_role_and_binding_pass if {
	count(rbac.deny) == 0 with input as role
	count(rbac.warn) == 0 with input as role
	count(rbac.deny) == 0 with input as binding
	count(rbac.deny) == 0 with input as t.deployment
}

# K8S-067
test_k8s_067_wildcards if {
	r := rbac.deny with input as with_rule({"apiGroups": ["*"], "resources": ["*"], "verbs": ["get"]})
	t.msgs(r, "K8S-067") == {
		"[K8S-067] Role/reader: rule 1 uses '*' in resources of every API group; list the resources it needs",
		"[K8S-067] Role/reader: rule 1 uses '*' in apiGroups; list the apiGroups it needs",
	}
	core := rbac.deny with input as with_rule({"apiGroups": [""], "resources": ["*"], "verbs": ["get"]})
	t.msgs(core, "K8S-067") == {"[K8S-067] Role/reader: rule 1 uses '*' in resources of the core API group; list the resources it needs"}
	verbs := rbac.deny with input as with_rule({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]})
	t.ids(verbs) == {"K8S-067"}
	count(rbac.deny) == 0 with input as with_rule({"apiGroups": ["constraints.gatekeeper.sh"], "resources": ["*"], "verbs": ["get"]})
}

test_k8s_073_named_objects_pass if {
	named := with_rule({"apiGroups": ["admissionregistration.k8s.io"], "resources": ["validatingwebhookconfigurations"], "resourceNames": ["mine"], "verbs": ["patch"]})
	count(rbac.warn) == 0 with input as named
}

# K8S-068
test_k8s_068_secrets if {
	t.msgs(rbac.warn, "K8S-068") == {"[K8S-068] Role/reader: rule 1 lets its subjects read every Secret (list); grant get on named secrets (resourceNames) only"} with input as with_rule({"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]})
	count(rbac.warn) == 0 with input as with_rule({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["tls"]})

	# a wildcard over another API group's resources grants no core Secrets (nor pods, nodes)
	count(rbac.warn) == 0 with input as with_rule({"apiGroups": ["constraints.gatekeeper.sh"], "resources": ["*"], "verbs": ["get"]})
	"K8S-068" in t.ids(rbac.warn) with input as with_rule({"apiGroups": ["*"], "resources": ["secrets"], "verbs": ["watch"]})
}

# K8S-069
test_k8s_069_escalation_verbs if {
	r := rbac.deny with input as with_rule({"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["bind", "escalate"]})
	t.ids(r) == {"K8S-069"}
	count(t.msgs(r, "K8S-069")) == 2
}

# K8S-070
test_k8s_070_exec_and_create_pods if {
	r := rbac.warn with input as with_rule({"apiGroups": [""], "resources": ["pods/exec", "pods"], "verbs": ["create"]})
	t.msgs(r, "K8S-070") == {
		"[K8S-070] Role/reader: rule 1 grants pods/exec, a shell in (or a new) pod with its service account and secrets; remove it",
		"[K8S-070] Role/reader: rule 1 grants create pods, a shell in (or a new) pod with its service account and secrets; remove it",
	}
}

# K8S-073
test_k8s_073_node_proxy_webhooks_csr if {
	cr := object.union(role, {"kind": "ClusterRole", "metadata": {"name": "ops"}, "rules": [
		{"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]},
		{"apiGroups": ["admissionregistration.k8s.io"], "resources": ["validatingwebhookconfigurations"], "verbs": ["patch"]},
		{"apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests/approval"], "verbs": ["update"]},
	]})
	count(t.msgs(rbac.warn, "K8S-073")) == 3 with input as cr
}

# K8S-071
test_k8s_071_cluster_admin if {
	crb := object.union(binding, {"kind": "ClusterRoleBinding", "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"}})
	t.msgs(rbac.deny, "K8S-071") == {"[K8S-071] ClusterRoleBinding/reader: binds the cluster-admin ClusterRole; bind a role with only the permissions needed"} with input as crb
}

# K8S-072
test_k8s_072_anonymous if {
	b := t.put(binding, "/subjects/-", {"kind": "Group", "name": "system:unauthenticated"})
	t.msgs(rbac.deny, "K8S-072") == {"[K8S-072] RoleBinding/reader: binds Group 'system:unauthenticated'; bind named users, groups or service accounts only"} with input as b
}
