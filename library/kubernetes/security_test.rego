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

# K8S-033
test_k8s_033_low_uid if {
	r := security.warn with input as t.put(t.deployment, concat("", [pod_sc, "/runAsUser"]), 1000)
	t.msgs(r, "K8S-033") == {"[K8S-033] Deployment/web: container 'web': runs with runAsUser 1000; set securityContext.runAsUser above 10000 (e.g. 10001)"}
}

test_k8s_033_unset_gid if {
	r := security.warn with input as t.remove(t.deployment, concat("", [pod_sc, "/runAsGroup"]))
	t.msgs(r, "K8S-033") == {"[K8S-033] Deployment/web: container 'web': runs with runAsGroup unset; set securityContext.runAsGroup above 10000 (e.g. 10001)"}
}

# K8S-034
test_k8s_034_root_group if {
	r := security.deny with input as t.put(t.deployment, concat("", [c0, "/securityContext/runAsGroup"]), 0)
	t.ids(r) == {"K8S-034"}
}

test_k8s_034_fs_group_and_supplemental if {
	d := t.put(t.put(t.deployment, concat("", [pod_sc, "/fsGroup"]), 0), concat("", [pod_sc, "/supplementalGroups"]), [0])
	t.msgs(security.deny, "K8S-034") == {
		"[K8S-034] Deployment/web: gives its pods the root group (securityContext.fsGroup: 0); use a non-zero GID",
		"[K8S-034] Deployment/web: lists GID 0 in securityContext.supplementalGroups; remove it",
	} with input as d
	count(security.deny) == 0 with input as t.put(t.deployment, concat("", [pod_sc, "/fsGroup"]), 10001)
}

# K8S-035
test_k8s_035_apparmor_unconfined if {
	r := security.deny with input as t.put(t.deployment, concat("", [c0, "/securityContext/appArmorProfile"]), {"type": "Unconfined"})
	t.ids(r) == {"K8S-035"}
	a := t.put(t.deployment, "/spec/template/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1web", "unconfined")
	t.ids(security.deny) == {"K8S-035"} with input as a
	ok := t.put(t.deployment, concat("", [pod_sc, "/appArmorProfile"]), {"type": "RuntimeDefault"})
	count(security.deny) == 0 with input as ok
}

# K8S-036
test_k8s_036_selinux if {
	r := security.deny with input as t.put(t.deployment, concat("", [pod_sc, "/seLinuxOptions"]), {"type": "spc_t", "level": "s0:c1"})
	t.msgs(r, "K8S-036") == {"[K8S-036] Deployment/web: container 'web': sets seLinuxOptions.type 'spc_t'; remove it (only the container_t types are allowed, and no user or role)"}
	u := t.put(t.deployment, concat("", [c0, "/securityContext/seLinuxOptions"]), {"user": "system_u"})
	t.ids(security.deny) == {"K8S-036"} with input as u
	ok := t.put(t.deployment, concat("", [pod_sc, "/seLinuxOptions"]), {"type": "container_t", "level": "s0:c1"})
	count(security.deny) == 0 with input as ok
}

# K8S-037
test_k8s_037_proc_mount if {
	t.ids(security.deny) == {"K8S-037"} with input as t.put(t.deployment, concat("", [c0, "/securityContext/procMount"]), "Unmasked")
	count(security.deny) == 0 with input as t.put(t.deployment, concat("", [c0, "/securityContext/procMount"]), "Default")
}

# K8S-038
test_k8s_038_sysctls if {
	d := t.put(t.deployment, concat("", [pod_sc, "/sysctls"]), [{"name": "net.ipv4.tcp_syncookies", "value": "1"}, {"name": "kernel.msgmax", "value": "1"}])
	t.msgs(security.deny, "K8S-038") == {"[K8S-038] Deployment/web: sets the unsafe sysctl kernel.msgmax; remove it from securityContext.sysctls"} with input as d
}

# K8S-039
test_k8s_039_host_process if {
	t.ids(security.deny) == {"K8S-039"} with input as t.put(t.deployment, concat("", [c0, "/securityContext/windowsOptions"]), {"hostProcess": true})
	pod_only := t.put(t.put(t.deployment, "/spec/template/spec/containers", []), concat("", [pod_sc, "/windowsOptions"]), {"hostProcess": true})
	"K8S-039" in t.ids(security.deny) with input as pod_only
}

# K8S-043
test_k8s_043_token_automount if {
	r := security.warn with input as t.remove(t.deployment, "/spec/template/spec/automountServiceAccountToken")
	t.msgs(r, "K8S-043") == {"[K8S-043] Deployment/web: mounts the service account token by default; set spec.automountServiceAccountToken: false (or true, explicitly, if the pod calls the Kubernetes API)"}
	count(security.warn) == 0 with input as t.put(t.deployment, "/spec/template/spec/automountServiceAccountToken", true)
}

# K8S-044, K8S-045
test_k8s_044_default_service_account if {
	r := security.warn with input as t.remove(t.deployment, "/spec/template/spec/serviceAccountName")
	t.ids(r) == {"K8S-044"}
	d := t.put(t.deployment, "/spec/template/spec/serviceAccountName", "default")
	t.ids(security.warn) == {"K8S-044"} with input as d
}

test_k8s_045_deprecated_field if {
	d := t.put(t.remove(t.deployment, "/spec/template/spec/serviceAccountName"), "/spec/template/spec/serviceAccount", "web")
	t.ids(security.warn) == {"K8S-045"} with input as d
}

# K8S-046
test_k8s_046_secret_env if {
	env := [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]
	t.msgs(security.warn, "K8S-046") == {"[K8S-046] Deployment/web: container 'web': reads Secret 'db' into env var DB_PASSWORD; mount the Secret as a volume instead"} with input as t.put(t.deployment, concat("", [c0, "/env"]), env)
	from := [{"secretRef": {"name": "db"}}, {"configMapRef": {"name": "cfg"}}]
	t.msgs(security.warn, "K8S-046") == {"[K8S-046] Deployment/web: container 'web': loads Secret 'db' as environment variables (envFrom); mount the Secret as a volume instead"} with input as t.put(t.deployment, concat("", [c0, "/envFrom"]), from)
}

# Exemptions
test_exemption_annotation_for_one_container if {
	d := t.put(
		t.put(t.deployment, concat("", [c0, "/securityContext/readOnlyRootFilesystem"]), false),
		"/spec/template/metadata/annotations/exempt.portcullis.dev~1K8S-004.web", "writes its cache to /var/cache; OPS-12",
	)
	count(security.deny) == 0 with input as d
	security.exempted == {{
		"msg": "[K8S-004] Deployment/web: container 'web': has a writable root filesystem; set securityContext.readOnlyRootFilesystem: true (mount an emptyDir for paths that need writes) (exempted by annotation exempt.portcullis.dev/K8S-004.web: writes its cache to /var/cache; OPS-12)",
		"id": "K8S-004", "title": "Root filesystem is read-only", "resource": "Deployment/web",
		"reason": "writes its cache to /var/cache; OPS-12", "exempted_by": "annotation exempt.portcullis.dev/K8S-004.web",
	}} with input as d
}

test_exemption_annotation_other_container_does_not_apply if {
	d := t.put(
		t.put(t.deployment, concat("", [c0, "/securityContext/readOnlyRootFilesystem"]), false),
		"/metadata/annotations", {"exempt.portcullis.dev/K8S-004.sidecar": "only the sidecar"},
	)
	t.ids(security.deny) == {"K8S-004"} with input as d
	count(security.exempted) == 0 with input as d
}

test_exemption_annotation_whole_object if {
	d := t.put(
		t.put(t.deployment, concat("", [c0, "/securityContext/privileged"]), true),
		"/metadata/annotations", {"exempt.portcullis.dev/K8S-001": "CNI agent"},
	)
	count(security.deny) == 0 with input as d
	t.ids(security.exempted) == {"K8S-001"} with input as d
}

test_exemption_without_reason_exempts_nothing if {
	d := t.put(
		t.put(t.deployment, concat("", [c0, "/securityContext/privileged"]), true),
		"/metadata/annotations", {"exempt.portcullis.dev/K8S-001": "  "},
	)
	t.ids(security.deny) == {"K8S-001"} with input as d
}

test_exemption_from_data if {
	d := t.put(t.deployment, concat("", [c0, "/securityContext/privileged"]), true)
	entries := [{"rule": "K8S-001", "kind": "Deployment", "name": "we*", "namespace": "shop", "container": "web", "reason": "vendor chart"}]
	count(security.deny) == 0 with input as d with data.portcullis.exemptions as entries
	{r.exempted_by | some r in security.exempted} == {"data.portcullis.exemptions[0]"} with input as d with data.portcullis.exemptions as entries
	other := [{"rule": "K8S-001", "namespace": "other", "reason": "vendor chart"}]
	t.ids(security.deny) == {"K8S-001"} with input as d with data.portcullis.exemptions as other
	no_reason := [{"rule": "K8S-001"}]
	t.ids(security.deny) == {"K8S-001"} with input as d with data.portcullis.exemptions as no_reason
}

test_exemption_of_disabled_rule_not_reported if {
	d := t.put(
		t.put(t.deployment, concat("", [c0, "/securityContext/privileged"]), true),
		"/metadata/annotations", {"exempt.portcullis.dev/K8S-001": "CNI agent"},
	)
	count(security.exempted) == 0 with input as d with data.portcullis.disabled_rules as ["K8S-001"]
}

test_k8s_037_other_proc_mount if {
	t.ids(security.deny) == {"K8S-037"} with input as t.put(t.deployment, concat("", [c0, "/securityContext/procMount"]), "Other")
}

test_k8s_029_private_key_value if {
	env := [{"name": "the_good_stuff", "value": "---BEGIN OPENSSH PRIVATE KEY---\nabc\n---END OPENSSH PRIVATE KEY---"}]
	t.msgs(security.deny, "K8S-029") == {"[K8S-029] Deployment/web: container 'web': has a private key in the literal value of env var the_good_stuff; reference a Secret instead (env[].valueFrom.secretKeyRef)"} with input as t.put(t.deployment, concat("", [c0, "/env"]), env)
}

test_deployment_config_is_a_workload if {
	dc := object.union(t.deployment, {"apiVersion": "apps.openshift.io/v1", "kind": "DeploymentConfig"})
	t.ids(security.deny) == {"K8S-001"} with input as t.put(dc, concat("", [c0, "/securityContext/privileged"]), true)
	other := object.union(t.deployment, {"apiVersion": "example.com/v1", "kind": "DeploymentConfig"})
	count(security.deny) == 0 with input as t.put(other, concat("", [c0, "/securityContext/privileged"]), true)
}
