# An image policy webhook in the style of Kubernetes' ImagePolicyWebhook: the API server sends
# an ImageReview and reads back whether the pod's images may run.
package io.k8s.image_policy

import rego.v1

default allowed_registries := ["hooli.com/", "registry.hooli.com/"]

allowed_registries := data.config.registries if data.config.registries

verify := {
	"apiVersion": "imagepolicy.k8s.io/v1alpha1",
	"kind": "ImageReview",
	"status": {"allowed": count(denied_images) == 0, "reason": reason},
}

images contains c.image if some c in input.spec.containers

denied_images contains image if {
	some image in images
	not trusted(image)
}

trusted(image) if {
	some prefix in allowed_registries
	startswith(image, prefix)
}

reason := "" if count(denied_images) == 0

reason := sprintf("images from untrusted registries: %s", [concat(", ", sort(denied_images))]) if count(denied_images) > 0
