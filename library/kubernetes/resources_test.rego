package kubernetes.resources_test

import data.kubernetes.resources
import data.portcullis_lib.testing as t

c0 := "/spec/template/spec/containers/0"

test_good_deployment_passes if {
	count(resources.deny) == 0 with input as t.deployment
}

# K8S-005
test_k8s_005_missing_requests if {
	r := resources.deny with input as t.remove(t.deployment, concat("", [c0, "/resources/requests"]))
	t.msgs(r, "K8S-005") == {
		"[K8S-005] Deployment/web: container 'web': has no cpu request; set resources.requests.cpu",
		"[K8S-005] Deployment/web: container 'web': has no memory request; set resources.requests.memory",
	}
	t.ids(r) == {"K8S-005"}
}

test_k8s_005_required_requests_from_data if {
	d := t.remove(t.deployment, concat("", [c0, "/resources/requests/cpu"]))
	count(resources.deny) == 0 with input as d with data.portcullis.kubernetes.required_requests as ["memory"]
	t.ids(resources.deny) == {"K8S-005"} with input as d
}

# K8S-006
test_k8s_006_missing_memory_limit if {
	r := resources.deny with input as t.remove(t.deployment, concat("", [c0, "/resources/limits/memory"]))
	t.msgs(r, "K8S-006") == {"[K8S-006] Deployment/web: container 'web': has no memory limit; set resources.limits.memory"}
	t.ids(r) == {"K8S-006"}
}

test_k8s_006_cpu_limit_optional_by_data if {
	d := t.remove(t.deployment, concat("", [c0, "/resources/limits/cpu"]))
	count(resources.deny) == 0 with input as d with data.portcullis.kubernetes.required_limits as ["memory"]
}

test_k8s_006_init_containers_checked if {
	init := object.union(json.remove(t.container, ["resources"]), {"name": "setup"})
	r := resources.deny with input as t.put(t.deployment, "/spec/template/spec/initContainers", [init])
	"[K8S-006] Deployment/web: init container 'setup': has no memory limit; set resources.limits.memory" in t.msgs(r, "K8S-006")
}

test_cronjob_containers_checked if {
	cj := {
		"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "report"},
		"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "r", "image": "python:3.12"}]}}}}},
	}
	r := resources.deny with input as cj
	t.ids(r) == {"K8S-005", "K8S-006"}
	count(r) == 4
}

test_k8s_005_demoted_to_warn if {
	d := t.remove(t.deployment, "/spec/template/spec/containers/0/resources/requests/cpu")
	t.ids(resources.warn) == {"K8S-005"} with input as d with data.portcullis.severity as {"K8S-005": "warn"}
}

# K8S-049
test_k8s_049_ephemeral_storage if {
	d := t.remove(t.deployment, concat("", [c0, "/resources/limits/ephemeral-storage"]))
	t.msgs(resources.warn, "K8S-049") == {"[K8S-049] Deployment/web: container 'web': has no ephemeral-storage limit; set resources.limits.ephemeral-storage so a full disk cannot evict its neighbours"} with input as d
	count(resources.warn) == 0 with input as t.deployment
}

# K8S-085 (collections only)
test_k8s_085_namespace_quota_and_limits if {
	quota := {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q", "namespace": "shop"}, "spec": {}}
	limits := {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "l", "namespace": "shop"}, "spec": {}}
	t.msgs(resources.warn, "K8S-085") == {"[K8S-085] manifests.yaml: Namespace/shop: has no LimitRange in the input; add one to cap what the namespace's pods can use"} with input as t.combined([t.namespace, quota])
	count(resources.warn) == 0 with input as t.combined([t.namespace, quota, limits])
	count(resources.warn) == 0 with input as t.namespace
}
