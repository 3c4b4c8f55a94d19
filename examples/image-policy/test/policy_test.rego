package io.k8s.image_policy_test

import data.io.k8s.image_policy

review(namespace, images) := {
	"apiVersion": "imagepolicy.k8s.io/v1alpha1",
	"kind": "ImageReview",
	"spec": {"namespace": namespace, "containers": [{"image": i} | some i in images]},
}

test_approved_images_are_allowed if {
	r := image_policy.verify with input as review("shop", ["registry.example.com/a/b:1.0"])
	r.status == {"allowed": true}
}

test_latest_is_refused if {
	r := image_policy.verify with input as review("shop", ["registry.example.com/a/b:latest"])
	r.status.allowed == false
	r.status.reason == "registry.example.com/a/b:latest: the :latest tag is not allowed"
}

test_a_port_is_not_a_tag if {
	r := image_policy.verify with input as review("shop", ["registry.example.com:5000/a/b"])
	contains(r.status.reason, "name a tag or a digest")
}

test_digest_without_tag_is_allowed if {
	r := image_policy.verify with input as review("shop", ["registry.example.com/a/b@sha256:0123"])
	r.status.allowed
}

test_registry_per_namespace if {
	image_policy.verify.status.allowed with input as review("payments", ["ghcr.io/acme/pay:1"])
	not image_policy.verify.status.allowed with input as review("shop", ["ghcr.io/acme/pay:1"])
}

test_docker_hub_short_names_are_docker_io if {
	image_policy.registry("nginx:1.25") == "docker.io"
	image_policy.registry("library/nginx:1.25") == "docker.io"
	image_policy.registry("localhost/x:1") == "localhost"
}

test_critical_vulnerabilities_are_refused if {
	vulns := {"registry.example.com/a/b:1.0": [{"id": "CVE-1", "severity": "critical"}]}
	r := image_policy.verify with input as review("shop", ["registry.example.com/a/b:1.0"])
		with data.image_policy.vulnerabilities as vulns
	r.status.reason == "registry.example.com/a/b:1.0: critical vulnerability CVE-1"
}

test_malformed_review_is_refused if {
	r := image_policy.verify with input as {"kind": "ImageReview"}
	r.status.allowed == false
}
