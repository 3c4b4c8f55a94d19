package main

import rego.v1

good_deployment := {
	"kind": "Deployment",
	"metadata": {"name": "api", "namespace": "shop", "labels": {"app": "api", "team": "payments"}},
	"spec": {
		"replicas": 3,
		"template": {"spec": {
			"securityContext": {"runAsNonRoot": true},
			"containers": [{
				"name": "api",
				"image": "ghcr.io/acme/api:2.0",
				"resources": {"limits": {"memory": "256Mi"}},
			}],
		}},
	},
}

registries := {"allowed": ["ghcr.io", "docker.io"]}

# The first container of good_deployment, changed.
with_container(patch) := json.patch(good_deployment, [{"op": "replace", "path": "/spec/template/spec/containers/0", "value": object.union(good_deployment.spec.template.spec.containers[0], patch)}])

test_good_deployment_passes if {
	count(deny) == 0 with input as good_deployment with data.registries as registries
	count(warn) == 0 with input as good_deployment with data.registries as registries
}

test_root_is_denied if {
	d := json.remove(good_deployment, ["spec/template/spec/securityContext"])
	deny["Deployment/api: containers must not run as root"] with input as d with data.registries as registries
}

test_latest_tag_is_denied if {
	d := with_container({"image": "nginx"})
	print("checking", d.spec.template.spec.containers[0].image)
	deny["Deployment/api: container api uses the latest tag"] with input as d with data.registries as registries
}

test_memory_limit_required if {
	c := json.remove(good_deployment.spec.template.spec.containers[0], ["resources"])
	d := json.patch(good_deployment, [{"op": "replace", "path": "/spec/template/spec/containers", "value": [c]}])
	deny["Deployment/api: container api has no memory limit"] with input as d with data.registries as registries
}

test_privileged_is_denied if {
	d := with_container({"securityContext": {"privileged": true}})
	some msg in deny with input as d with data.registries as registries
	contains(msg, "is privileged")
}

# Mocking data: the allowed registries come from data.registries.
test_registry_not_allowed if {
	msgs := deny with input as good_deployment with data.registries.allowed as ["docker.io"]
	msgs == {"Deployment/api: registry ghcr.io is not allowed"}
}

# Mocking a function: every image is reported as coming from an unknown registry.
test_registry_mocked_function if {
	msgs := deny with input as good_deployment
		with data.registries as registries
		with data.lib.k8s.registry as "evil.example.com"
	"Deployment/api: registry evil.example.com is not allowed" in msgs
}

test_nodeport_denied if {
	svc := {"kind": "Service", "metadata": {"name": "web"}, "spec": {"type": "NodePort"}}
	deny["Service/web: NodePort services are not allowed"] with input as svc
}

test_clusterip_allowed if {
	svc := {"kind": "Service", "metadata": {"name": "web", "labels": {"app": "web", "team": "t"}}, "spec": {"type": "ClusterIP"}}
	count(deny) == 0 with input as svc
}

test_single_replica_warns if {
	d := object.union(good_deployment, {"spec": {"replicas": 1}})
	warn["Deployment/api: fewer than 2 replicas"] with input as d with data.registries as registries
}

test_missing_labels_warn if {
	d := json.remove(good_deployment, ["metadata/labels/team"])
	warn[`Deployment/api: missing labels ["team"]`] with input as d with data.registries as registries
}

waivers := [{"namespace": "shop", "until": "2030-01-01T00:00:00Z", "rules": ["deny"]}]

# Mocking a builtin with a value: the clock is frozen.
test_waiver_active if {
	exception == {["deny"]} with input as good_deployment
		with data.waivers as waivers
		with time.now_ns as time.parse_rfc3339_ns("2029-06-01T00:00:00Z")
}

test_waiver_expired if {
	count(exception) == 0 with input as good_deployment
		with data.waivers as waivers
		with time.now_ns as time.parse_rfc3339_ns("2031-06-01T00:00:00Z")
}

test_waiver_other_namespace if {
	d := object.union(good_deployment, {"metadata": {"namespace": "other"}})
	count(exception) == 0 with input as d with data.waivers as waivers
}
