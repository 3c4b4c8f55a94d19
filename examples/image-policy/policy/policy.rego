# The image policy of Kubernetes' ImagePolicyWebhook admission plugin, served by
# `portcullis run --server` (or `opa run --server`): the API server POSTs an ImageReview to
# /v0/data/io/k8s/image_policy/verify and reads back the document `verify` — an ImageReview
# whose status says whether the Pod's images are allowed, and why not.
#
# Rules: every image names a tag or a digest, and not `:latest`; each namespace pulls only from
# its approved registries (data.image_policy.registries, "*" for the namespaces without their own
# list); an image with a critical vulnerability (data.image_policy.vulnerabilities, pushed by a
# scanner through PUT /v1/data/image_policy/vulnerabilities) is refused.
package io.k8s.image_policy

verify := {
	"apiVersion": "imagepolicy.k8s.io/v1alpha1",
	"kind": "ImageReview",
	"status": status,
}

status := {"allowed": true} if count(deny) == 0

status := {"allowed": false, "reason": concat("; ", sort(deny))} if count(deny) > 0

namespace := object.get(input, ["spec", "namespace"], "")

images contains c.image if some c in input.spec.containers

# The image reference without its digest, then split into repository and tag.
name_part(image) := split(image, "@")[0]

has_digest(image) if contains(image, "@sha256:")

# The tag is what follows the last ":" after the last "/" (a registry port is not a tag).
tag(image) := t if {
	parts := split(name_part(image), "/")
	last := parts[count(parts) - 1]
	contains(last, ":")
	segs := split(last, ":")
	t := segs[count(segs) - 1]
}

registry(image) := r if {
	parts := split(name_part(image), "/")
	count(parts) > 1
	first := parts[0]
	regex.match(`[.:]|^localhost$`, first)
	r := first
} else := "docker.io"

approved_registries := data.image_policy.registries[namespace] if {
	data.image_policy.registries[namespace]
} else := object.get(data.image_policy.registries, "*", [])

# A review without a list of containers is malformed: refuse it rather than allow nothing-to-check.
deny contains "malformed ImageReview: spec.containers is not a list" if not has_containers

has_containers if is_array(input.spec.containers)

deny contains sprintf("%s: the :latest tag is not allowed", [image]) if {
	some image in images
	tag(image) == "latest"
}

deny contains sprintf("%s: name a tag or a digest", [image]) if {
	some image in images
	not tag(image)
	not has_digest(image)
}

deny contains sprintf("%s: registry %s is not approved for namespace %q", [image, registry(image), namespace]) if {
	some image in images
	not registry(image) in approved_registries
}

deny contains sprintf("%s: critical vulnerability %s", [image, v.id]) if {
	some image in images
	some v in data.image_policy.vulnerabilities[name_part(image)]
	v.severity == "critical"
}
