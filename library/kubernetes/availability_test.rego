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

hpa := {
	"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "minReplicas": 2, "maxReplicas": 10},
}

test_k8s_015_production_namespace_pattern if {
	one := t.put(t.put(t.deployment, "/spec/replicas", 1), "/metadata/namespace", "prod-eu-1")
	count(availability.deny) == 0 with input as one
	t.ids(availability.deny) == {"K8S-015"} with input as one with data.portcullis.kubernetes.production.namespace_pattern as "^prod-"
	count(availability.deny) == 0 with input as one with data.portcullis.kubernetes.production.namespace_pattern as "^production-"
}

# K8S-050
test_k8s_050_identical_probes if {
	probe := {"httpGet": {"path": "/healthz", "port": "http"}}
	d := t.put(t.deployment, concat("", [c0, "/readinessProbe"]), probe)
	t.msgs(availability.warn, "K8S-050") == {"[K8S-050] Deployment/web: container 'web': has identical liveness and readiness probes; give the readiness probe its own check (a restart does not fix an overloaded pod)"} with input as d
}

# K8S-051
test_k8s_051_probe_port_undeclared if {
	d := t.put(t.deployment, concat("", [c0, "/startupProbe"]), {"tcpSocket": {"port": "metrics"}})
	t.msgs(availability.deny, "K8S-051") == {"[K8S-051] Deployment/web: container 'web': has a startupProbe on port 'metrics', which the container does not declare; use a name from ports[].name"} with input as d
	numeric := t.put(t.deployment, concat("", [c0, "/startupProbe"]), {"tcpSocket": {"port": 9000}})
	count(availability.deny) == 0 with input as numeric
}

# K8S-054
test_k8s_054_no_spread if {
	d := t.remove(t.deployment, "/spec/template/spec/topologySpreadConstraints")
	t.msgs(availability.warn, "K8S-054") == {"[K8S-054] Deployment/web: runs 3 replicas with nothing spreading them over nodes; add spec.topologySpreadConstraints or a podAntiAffinity on kubernetes.io/hostname"} with input as d
	anti := t.put(d, "/spec/template/spec/affinity", {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}})
	count(availability.warn) == 0 with input as anti
	one := t.put(d, "/spec/replicas", 1)
	count(availability.warn) == 0 with input as one
}

# K8S-055
test_k8s_055_recreate if {
	t.ids(availability.warn) == {"K8S-055"} with input as t.put(t.deployment, "/spec/strategy", {"type": "Recreate"})
}

# K8S-084
test_k8s_084_priority_class if {
	t.ids(availability.warn) == {"K8S-084"} with input as t.remove(t.deployment, "/spec/template/spec/priorityClassName")
}

# K8S-074
test_k8s_074_hpa_replicas if {
	count(availability.warn) == 0 with input as hpa
	t.msgs(availability.warn, "K8S-074") == {"[K8S-074] HorizontalPodAutoscaler/web: has minReplicas 1; set it to at least 2 so one pod's failure does not stop the service"} with input as t.remove(hpa, "/spec/minReplicas")
	t.msgs(availability.warn, "K8S-074") == {"[K8S-074] HorizontalPodAutoscaler/web: has maxReplicas 2 not above minReplicas 2, so it cannot scale; raise maxReplicas"} with input as t.put(hpa, "/spec/maxReplicas", 2)
}

# K8S-075, K8S-076 (collections only)
test_k8s_075_replicas_with_hpa if {
	t.msgs(availability.warn, "K8S-075") == {"[K8S-075] manifests.yaml: Deployment/web: sets spec.replicas (3) although a HorizontalPodAutoscaler scales it, so every apply resets the scale; remove spec.replicas"} with input as t.combined([t.deployment, t.pdb, hpa])
	no_replicas := t.remove(t.deployment, "/spec/replicas")
	count(availability.warn) == 0 with input as t.combined([no_replicas, t.pdb, hpa])
	count(availability.deny) == 0 with input as t.combined([t.put(no_replicas, "/metadata/namespace", "production"), t.put(t.pdb, "/metadata/namespace", "production"), t.put(hpa, "/metadata/namespace", "production")])
}

test_k8s_076_hpa_target_missing if {
	t.msgs(availability.warn, "K8S-076") == {"[K8S-076] manifests.yaml: HorizontalPodAutoscaler/web: targets Deployment/web, which is not in the input; fix spec.scaleTargetRef"} with input as t.combined([hpa])
	count(availability.warn) == 0 with input as hpa
}

# K8S-080
test_k8s_080_pdb_blocks_evictions if {
	zero := t.put(t.remove(t.pdb, "/spec/minAvailable"), "/spec/maxUnavailable", 0)
	t.msgs(availability.deny, "K8S-080") == {"[K8S-080] PodDisruptionBudget/web: allows no voluntary disruption (maxUnavailable: 0); node drains and upgrades will hang — allow at least one"} with input as zero
	all := t.put(t.pdb, "/spec/minAvailable", "100%")
	t.ids(availability.deny) == {"K8S-080"} with input as all
	count(availability.deny) == 0 with input as t.pdb
}

# K8S-081 (collections only)
test_k8s_081_pdb_selects_nothing if {
	other := t.put(t.pdb, "/spec/selector", {"matchLabels": {"app.kubernetes.io/name": "api"}})
	"K8S-081" in t.ids(availability.warn) with input as t.combined([t.deployment, other])
	count(availability.warn) == 0 with input as other
}

# CRD workloads: Argo Rollouts and OpenKruise CloneSets are checked like Deployments.
test_crd_workloads if {
	rollout := object.union(t.deployment, {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout"})
	count(availability.warn) == 0 with input as rollout
	t.ids(availability.warn) == {"K8S-007"} with input as t.remove(rollout, concat("", [c0, "/livenessProbe"]))
	t.ids(availability.warn) == {"K8S-016"} with input as t.combined([object.union(t.deployment, {"apiVersion": "apps.kruise.io/v1alpha1", "kind": "CloneSet"})])
	other := object.union(t.deployment, {"apiVersion": "example.com/v1", "kind": "Rollout"})
	count(availability.warn) == 0 with input as t.remove(other, concat("", [c0, "/livenessProbe"]))
}

test_k8s_080_pdb_without_policy if {
	t.msgs(availability.deny, "K8S-080") == {"[K8S-080] PodDisruptionBudget/web: sets neither minAvailable nor maxUnavailable; set one (e.g. maxUnavailable: 1)"} with input as t.remove(t.pdb, "/spec/minAvailable")
}
