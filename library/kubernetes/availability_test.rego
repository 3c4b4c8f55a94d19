package kubernetes.availability_test

import data.kubernetes.availability
import data.portcullis_lib.testing as t

c0 := "/spec/template/spec/containers/0"

test_good_deployment_passes if {
	count(availability.deny) == 0 with input as t.deployment
	count(availability.warn) == 0 with input as t.deployment
}

# K8S-007, K8S-008
test_k8s_007_no_liveness_probe if {
	r := availability.warn with input as t.remove(t.deployment, concat("", [c0, "/livenessProbe"]))
	t.ids(r) == {"K8S-007"}
}

test_k8s_008_no_readiness_probe if {
	r := availability.warn with input as t.remove(t.deployment, concat("", [c0, "/readinessProbe"]))
	t.msgs(r, "K8S-008") == {"[K8S-008] Deployment/web: container 'web': has no readiness probe; add readinessProbe so traffic only reaches ready pods"}
}

test_probes_not_required_for_jobs_and_init_containers if {
	job := {
		"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
		"spec": {"template": {"spec": {"containers": [{"name": "m", "image": "x:1"}]}}},
	}
	count(availability.warn) == 0 with input as job
	init := object.union(json.remove(t.container, ["livenessProbe", "readinessProbe"]), {"name": "setup"})
	count(availability.warn) == 0 with input as t.put(t.deployment, "/spec/template/spec/initContainers", [init])
}

test_k8s_007_promoted_to_deny if {
	d := t.remove(t.deployment, concat("", [c0, "/livenessProbe"]))
	t.ids(availability.deny) == {"K8S-007"} with input as d with data.portcullis.severity as {"K8S-007": "deny"}
}

# K8S-015
test_k8s_015_production_namespace_single_replica if {
	d := t.put(t.put(t.deployment, "/metadata/namespace", "production"), "/spec/replicas", 1)
	r := availability.deny with input as d
	t.msgs(r, "K8S-015") == {"[K8S-015] Deployment/web: is a production workload with 1 replica(s); set spec.replicas to at least 2"}
}

test_k8s_015_missing_replicas_counts_as_one if {
	d := t.remove(t.put(t.deployment, "/metadata/labels/environment", "prod"), "/spec/replicas")
	t.ids(availability.deny) == {"K8S-015"} with input as d
}

test_k8s_015_not_production_passes if {
	d := t.put(t.deployment, "/spec/replicas", 1)
	count(availability.deny) == 0 with input as d
}

test_k8s_015_namespace_object_marks_production if {
	d := t.put(t.deployment, "/spec/replicas", 1)
	r := availability.deny with input as t.combined([t.namespace, d, t.pdb])
	t.ids(r) == {"K8S-015"}
}

test_k8s_015_min_replicas_from_data if {
	d := t.put(t.deployment, "/metadata/namespace", "production")
	r := availability.deny with input as d with data.portcullis.kubernetes.production.min_replicas as 5
	t.msgs(r, "K8S-015") == {"[K8S-015] Deployment/web: is a production workload with 3 replica(s); set spec.replicas to at least 5"}
}

# K8S-016 (combined input only)
test_k8s_016_missing_pdb if {
	r := availability.warn with input as t.combined([t.deployment])
	t.msgs(r, "K8S-016") == {"[K8S-016] manifests.yaml: Deployment/web: has no PodDisruptionBudget; add one in the same namespace whose selector matches the pod labels {app.kubernetes.io/name=web}"}
}

test_k8s_016_pdb_present_passes if {
	count(availability.warn) == 0 with input as t.combined([t.deployment, t.pdb])
}

test_k8s_016_pdb_in_other_namespace_or_selector if {
	other_ns := t.put(t.pdb, "/metadata/namespace", "other")
	t.ids(availability.warn) == {"K8S-016", "K8S-081"} with input as t.combined([t.deployment, other_ns])
	other_sel := t.put(t.pdb, "/spec/selector", {"matchLabels": {"app.kubernetes.io/name": "api"}})
	t.ids(availability.warn) == {"K8S-016", "K8S-081"} with input as t.combined([t.deployment, other_sel])
}

test_k8s_016_not_reported_per_document if {
	count(availability.warn) == 0 with input as t.deployment
}

test_k8s_008_readiness_probe_present_passes if {
	d := t.put(t.deployment, concat("", [c0, "/readinessProbe"]), {"tcpSocket": {"port": 8080}})
	count(availability.warn) == 0 with input as d
}
