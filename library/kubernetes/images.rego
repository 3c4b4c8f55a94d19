# Container images: K8S-009 (allowed registries), K8S-010 (tag other than latest),
# K8S-030 (digest pinning, when data.portcullis.kubernetes.require_digest is true).
package kubernetes.images

import data.portcullis_lib.config
import data.portcullis_lib.images
import data.portcullis_lib.kubernetes as k8s

# The package's findings (the `_findings` rules below), evaluated only when the input holds
# Kubernetes objects: other documents do not enter those rules at all.
findings := _findings if k8s.present

default findings := set()

deny := config.report(findings, "deny")

warn := config.report(findings, "warn")

exempted := config.exempted(findings)

allowed_registries := config.param(
	["kubernetes", "allowed_registries"],
	config.param(["allowed_registries"], images.default_allowed_registries),
)

require_digest := config.param(["kubernetes", "require_digest"], false)

# An array: a set would hash each container's whole workload.
container_images := [[c, image] |
	some c in k8s.containers
	is_string(c.container.image)
	image := images.parse(c.container.image)
]

_findings contains k8s.container_finding("K8S-009", c, sprintf(
	"uses image '%s' (%s) from a registry that is not allowed; use an approved registry or add it to data.portcullis.kubernetes.allowed_registries",
	[image.ref, image.name],
)) if {
	some [c, image] in container_images
	not images.allowed(image, allowed_registries)
}

_findings contains k8s.container_finding("K8S-010", c, sprintf(
	"uses image '%s' without a tag; pin a version tag (%s:<version>) or a digest",
	[image.ref, image.ref],
)) if {
	some [c, image] in container_images
	images.untagged_or_latest(image)
	image.tag == ""
}

_findings contains k8s.container_finding("K8S-010", c, sprintf(
	"uses image '%s' with the latest tag; pin a version tag (%s:<version>) or a digest",
	[image.ref, trim_suffix(image.ref, ":latest")],
)) if {
	some [c, image] in container_images
	images.untagged_or_latest(image)
	image.tag == "latest"
}

_findings contains k8s.container_finding("K8S-030", c, sprintf(
	"uses image '%s' without a digest; pin it as %s@sha256:<digest>",
	[image.ref, image.ref],
)) if {
	require_digest == true
	some [c, image] in container_images
	not images.pinned(image)
}

# K8S-031: golden images — when data.portcullis.kubernetes.approved_images is non-empty, every
# image is one of them: an entry is a normalized repository ("docker.io/library/nginx"), a
# repository with a tag ("registry.acme.example/base/java:21"), or a prefix ending in "/*".
approved_images := config.param(["kubernetes", "approved_images"], [])

_findings contains k8s.container_finding("K8S-031", c, sprintf(
	"uses image '%s' (%s), which is not an approved golden image; use one listed in data.portcullis.kubernetes.approved_images",
	[image.ref, image.name],
)) if {
	count(approved_images) > 0
	some [c, image] in container_images
	not _approved(image)
}

_approved(image) if {
	some a in approved_images
	_approved_by(image, a)
}

_approved_by(image, a) if image.name == a

_approved_by(image, a) if sprintf("%s:%s", [image.name, image.tag]) == a

_approved_by(image, a) if {
	endswith(a, "/*")
	startswith(image.name, trim_suffix(a, "*"))
}

# K8S-032: patched images under the same tag only arrive with imagePullPolicy Always
# (Kubernetes defaults to IfNotPresent for tagged images).
_findings contains k8s.container_finding("K8S-032", c, sprintf(
	"pulls its image with imagePullPolicy %s, so a rebuilt (patched) tag is not picked up; set imagePullPolicy: Always",
	[_pull_policy(c.container, image)],
)) if {
	some [c, image] in container_images
	_pull_policy(c.container, image) != "Always"
	not images.pinned(image)
}

# The effective policy: Kubernetes defaults to Always for untagged or latest images.
_pull_policy(container, image) := container.imagePullPolicy if {
	is_string(container.imagePullPolicy)
} else := "Always" if {
	images.untagged_or_latest(image)
} else := "IfNotPresent (the default)"
