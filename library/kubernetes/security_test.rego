package kubernetes.security_test

import data.kubernetes.security
import data.portcullis_lib.testing as t

c0 := "/spec/template/spec/containers/0"

pod_sc := "/spec/template/spec/securityContext"

test_good_deployment_passes if {
	count(security.deny) == 0 with input as t.deployment
	count(security.warn) == 0 with input as t.deployment
}

# K8S-001
test_k8s_001_privileged if {
	r := security.deny with input as t.put(t.deployment, concat("", [c0, "/securityContext/privileged"]), true)
	t.ids(r) == {"K8S-001"}
	t.msgs(r, "K8S-001") == {"[K8S-001] Deployment/web: container 'web': runs privileged; remove securityContext.privileged or set it to false"}
}

test_k8s_001_privileged_false_passes if {
	r := security.deny with input as t.put(t.deployment, concat("", [c0, "/securityContext/privileged"]), false)
	not "K8S-001" in t.ids(r)
}

# K8S-002
test_k8s_002_escalation_not_disabled if {
	r := security.deny with input as t.remove(t.deployment, concat("", [c0, "/securityContext/allowPrivilegeEscalation"]))
	t.ids(r) == {"K8S-002"}
}

test_k8s_002_init_containers_checked if {
	init := json.remove(t.container, ["securityContext/allowPrivilegeEscalation"])
	r := security.deny with input as t.put(t.deployment, "/spec/template/spec/initContainers", [object.union(init, {"name": "setup"})])
	t.msgs(r, "K8S-002") == {"[K8S-002] Deployment/web: init container 'setup': may escalate privileges; set securityContext.allowPrivilegeEscalation: false"}
}

# K8S-003
test_k8s_003_run_as_non_root_missing if {
	r := security.deny with input as t.remove(t.deployment, concat("", [pod_sc, "/runAsNonRoot"]))
	t.ids(r) == {"K8S-003"}
}

test_k8s_003_container_overrides_pod if {
	r := security.deny with input as t.put(t.deployment, concat("", [c0, "/securityContext/runAsNonRoot"]), false)
	t.ids(r) == {"K8S-003"}
}

test_k8s_003_container_level_is_enough if {
	d := t.put(t.remove(t.deployment, concat("", [pod_sc, "/runAsNonRoot"])), concat("", [c0, "/securityContext/runAsNonRoot"]), true)
	r := security.deny with input as d
	not "K8S-003" in t.ids(r)
}

test_k8s_003_uid_zero if {
	r := security.deny with input as t.put(t.deployment, concat("", [pod_sc, "/runAsUser"]), 0)
	t.msgs(r, "K8S-003") == {"[K8S-003] Deployment/web: container 'web': runs as UID 0; set securityContext.runAsUser to a non-zero UID (e.g. 10001)"}
}

# K8S-004
test_k8s_004_writable_root_filesystem if {
	r := security.deny with input as t.put(t.deployment, concat("", [c0, "/securityContext/readOnlyRootFilesystem"]), false)
	t.ids(r) == {"K8S-004"}
}

# K8S-023, K8S-024
test_k8s_023_host_pid if {
	r := security.deny with input as t.put(t.deployment, "/spec/template/spec/hostPID", true)
	t.ids(r) == {"K8S-023"}
}

test_k8s_023_host_pid_false_passes if {
	r := security.deny with input as t.put(t.deployment, "/spec/template/spec/hostPID", false)
	count(r) == 0
}

test_k8s_024_host_ipc if {
	r := security.deny with input as t.put(t.deployment, "/spec/template/spec/hostIPC", true)
	t.ids(r) == {"K8S-024"}
}

test_k8s_024_host_ipc_false_passes if {
	r := security.deny with input as t.put(t.deployment, "/spec/template/spec/hostIPC", false)
	count(r) == 0
}

# K8S-025
test_k8s_025_added_capability if {
	r := security.deny with input as t.put(t.deployment, concat("", [c0, "/securityContext/capabilities/add"]), ["NET_BIND_SERVICE", "CAP_SYS_ADMIN"])
	t.msgs(r, "K8S-025") == {"[K8S-025] Deployment/web: container 'web': adds capability SYS_ADMIN; remove it from securityContext.capabilities.add (allowed: NET_BIND_SERVICE)"}
}

test_k8s_025_allowed_list_from_data if {
	d := t.put(t.deployment, concat("", [c0, "/securityContext/capabilities/add"]), ["NET_ADMIN"])
	r := security.deny with input as d with data.portcullis.kubernetes.allowed_capabilities as ["net_admin"]
	count(r) == 0
	r2 := security.deny with input as d with data.portcullis.kubernetes.allowed_capabilities as []
	t.msgs(r2, "K8S-025") == {"[K8S-025] Deployment/web: container 'web': adds capability NET_ADMIN; remove it from securityContext.capabilities.add (allowed: none)"}
}

# K8S-026
test_k8s_026_drop_all_missing if {
	r := security.deny with input as t.put(t.deployment, concat("", [c0, "/securityContext/capabilities/drop"]), ["NET_RAW"])
	t.ids(r) == {"K8S-026"}
}

test_k8s_026_lower_case_all_accepted if {
	r := security.deny with input as t.put(t.deployment, concat("", [c0, "/securityContext/capabilities/drop"]), ["all"])
	count(r) == 0
}

# K8S-028
test_k8s_028_no_seccomp_profile if {
	r := security.deny with input as t.remove(t.deployment, concat("", [pod_sc, "/seccompProfile"]))
	t.ids(r) == {"K8S-028"}
}

test_k8s_028_unconfined if {
	r := security.deny with input as t.put(t.deployment, concat("", [c0, "/securityContext/seccompProfile"]), {"type": "Unconfined"})
	t.msgs(r, "K8S-028") == {"[K8S-028] Deployment/web: container 'web': uses seccomp profile type 'Unconfined'; set securityContext.seccompProfile.type to RuntimeDefault or Localhost"}
}

test_k8s_028_localhost_passes if {
	r := security.deny with input as t.put(t.deployment, concat("", [pod_sc, "/seccompProfile"]), {"type": "Localhost", "localhostProfile": "p.json"})
	count(r) == 0
}

# K8S-029
test_k8s_029_literal_secret_env if {
	r := security.deny with input as t.put(t.deployment, concat("", [c0, "/env"]), [{"name": "DB_PASSWORD", "value": "x"}])
	t.ids(r) == {"K8S-029"}
}

test_k8s_029_secret_ref_passes if {
	env := [
		{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
		{"name": "LOG_LEVEL", "value": "info"},
	]
	r := security.deny with input as t.put(t.deployment, concat("", [c0, "/env"]), env)
	count(r) == 0
}

# Settings
test_disabled_rule_is_silent if {
	d := t.put(t.deployment, concat("", [c0, "/securityContext/privileged"]), true)
	r := security.deny with input as d with data.portcullis.disabled_rules as ["K8S-001"]
	count(r) == 0
}

test_severity_override_moves_rule_to_warn if {
	d := t.put(t.deployment, concat("", [c0, "/securityContext/privileged"]), true)
	count(security.deny) == 0 with input as d with data.portcullis.severity as {"K8S-001": "warn"}
	t.ids(security.warn) == {"K8S-001"} with input as d with data.portcullis.severity as {"K8S-001": "warn"}
}

test_other_kinds_are_ignored if {
	count(security.deny) == 0 with input as t.pdb
	count(security.deny) == 0 with input as t.dockerfile
}

test_k8s_004_read_only_root_filesystem_passes if {
	d := t.put(t.deployment, concat("", [c0, "/securityContext/readOnlyRootFilesystem"]), true)
	r := security.deny with input as d
	not "K8S-004" in t.ids(r)
}
