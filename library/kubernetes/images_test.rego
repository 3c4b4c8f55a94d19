package kubernetes.images_test

import data.kubernetes.images
import data.portcullis_lib.testing as t

image := "/spec/template/spec/containers/0/image"

test_good_deployment_passes if {
	count(images.deny) == 0 with input as t.deployment
}

# K8S-009
test_k8s_009_registry_not_allowed if {
	r := images.deny with input as t.put(t.deployment, image, "ghcr.io/acme/api:1.0")
	t.msgs(r, "K8S-009") == {"[K8S-009] Deployment/web: container 'web': uses image 'ghcr.io/acme/api:1.0' (ghcr.io/acme/api) from a registry that is not allowed; use an approved registry or add it to data.portcullis.kubernetes.allowed_registries"}
	t.ids(r) == {"K8S-009"}
}

test_k8s_009_allowed_registries_from_data if {
	d := t.put(t.deployment, image, "ghcr.io/acme/api:1.0")
	count(images.deny) == 0 with input as d with data.portcullis.kubernetes.allowed_registries as ["ghcr.io/acme"]
	count(images.deny) == 0 with input as d with data.portcullis.allowed_registries as ["ghcr.io"]
	t.ids(images.deny) == {"K8S-009"} with input as t.deployment with data.portcullis.allowed_registries as ["ghcr.io"]
}

# K8S-010
test_k8s_010_latest if {
	r := images.deny with input as t.put(t.deployment, image, "registry.k8s.io/pause:latest")
	t.msgs(r, "K8S-010") == {"[K8S-010] Deployment/web: container 'web': uses image 'registry.k8s.io/pause:latest' with the latest tag; pin a version tag (registry.k8s.io/pause:<version>) or a digest"}
}

test_k8s_010_untagged if {
	r := images.deny with input as t.put(t.deployment, image, "registry.k8s.io/pause")
	t.ids(r) == {"K8S-010"}
}

test_k8s_010_digest_only_passes if {
	count(images.deny) == 0 with input as t.put(t.deployment, image, "registry.k8s.io/pause@sha256:7031c1b283388d2c2e09b57badb803c05ebed362dc88d84b480cc47f72a21097")
}

# K8S-030 (opt-in)
test_k8s_030_digest_required if {
	r := images.deny with input as t.deployment with data.portcullis.kubernetes.require_digest as true
	t.ids(r) == {"K8S-030"}
	count(images.deny) == 0 with input as t.deployment
}

test_k8s_030_digest_present_passes if {
	d := t.put(t.deployment, image, "registry.k8s.io/pause:3.9@sha256:7031c1b283388d2c2e09b57badb803c05ebed362dc88d84b480cc47f72a21097")
	count(images.deny) == 0 with input as d with data.portcullis.kubernetes.require_digest as true
}

test_k8s_010_demoted_to_warn if {
	d := t.put(t.deployment, image, "registry.k8s.io/pause")
	t.ids(images.warn) == {"K8S-010"} with input as d with data.portcullis.severity as {"K8S-010": "warn"}
}

# K8S-031
test_k8s_031_approved_images if {
	approved := ["registry.k8s.io/e2e-test-images/agnhost:2.52"]
	count(images.deny) == 0 with input as t.deployment with data.portcullis.kubernetes.approved_images as approved
	count(images.deny) == 0 with input as t.deployment with data.portcullis.kubernetes.approved_images as ["registry.k8s.io/e2e-test-images/*"]
	count(images.deny) == 0 with input as t.deployment with data.portcullis.kubernetes.approved_images as ["registry.k8s.io/e2e-test-images/agnhost"]
	r := images.deny with input as t.deployment with data.portcullis.kubernetes.approved_images as ["registry.k8s.io/e2e-test-images/agnhost:2.53"]
	t.msgs(r, "K8S-031") == {"[K8S-031] Deployment/web: container 'web': uses image 'registry.k8s.io/e2e-test-images/agnhost:2.52' (registry.k8s.io/e2e-test-images/agnhost), which is not an approved golden image; use one listed in data.portcullis.kubernetes.approved_images"}
}

# K8S-032
test_k8s_032_pull_policy if {
	d := t.remove(t.deployment, "/spec/template/spec/containers/0/imagePullPolicy")
	t.msgs(images.warn, "K8S-032") == {"[K8S-032] Deployment/web: container 'web': pulls its image with imagePullPolicy IfNotPresent (the default), so a rebuilt (patched) tag is not picked up; set imagePullPolicy: Always"} with input as d
	n := t.put(t.deployment, "/spec/template/spec/containers/0/imagePullPolicy", "Never")
	t.ids(images.warn) == {"K8S-032"} with input as n
	latest := t.put(d, image, "registry.k8s.io/pause:latest")
	not "K8S-032" in t.ids(images.warn) with input as latest
	digest := t.put(d, image, "registry.k8s.io/pause@sha256:0000000000000000000000000000000000000000000000000000000000000000")
	count(images.warn) == 0 with input as digest
}
