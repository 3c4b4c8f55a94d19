# Dockerfile base images: DF-001 (allowed registry), DF-002 (tag other than latest),
# DF-003 (digest pinning, when data.portcullis.dockerfile.require_digest is true).
package dockerfile.base_image

import data.portcullis_lib.config
import data.portcullis_lib.dockerfile as df
import data.portcullis_lib.images

# The package's findings (the `_findings` rules below), evaluated only when the input holds
# a Dockerfile: other documents do not enter those rules at all.
findings := _findings if df.present

default findings := set()

deny contains r if {
	some r in config.report(findings, "deny")
}

warn contains r if {
	some r in config.report(findings, "warn")
}

allowed_registries := config.param(
	["dockerfile", "allowed_registries"],
	config.param(["allowed_registries"], images.default_allowed_registries),
)

require_digest := config.param(["dockerfile", "require_digest"], false)

_findings contains df.finding("DF-001", b.path, sprintf(
	"base image '%s' (%s) is not from an allowed registry; build FROM an approved image or add its registry to data.portcullis.dockerfile.allowed_registries",
	[b.ref, b.image.name],
)) if {
	some b in df.base_images
	not images.allowed(b.image, allowed_registries)
}

_findings contains df.finding("DF-002", b.path, sprintf(
	"base image '%s' has no tag; pin a version tag (FROM %s:<version>)",
	[b.ref, b.ref],
)) if {
	some b in df.base_images
	images.untagged_or_latest(b.image)
	b.image.tag == ""
}

_findings contains df.finding("DF-002", b.path, sprintf(
	"base image '%s' uses the latest tag; pin a version tag (FROM %s:<version>)",
	[b.ref, trim_suffix(b.ref, ":latest")],
)) if {
	some b in df.base_images
	images.untagged_or_latest(b.image)
	b.image.tag == "latest"
}

_findings contains df.finding("DF-003", b.path, sprintf(
	"base image '%s' is not pinned by digest; use FROM %s@sha256:<digest>",
	[b.ref, b.ref],
)) if {
	require_digest == true
	some b in df.base_images
	not images.pinned(b.image)
}

# DF-045: golden base images — when data.portcullis.dockerfile.approved_images (or the shared
# data.portcullis.approved_images) is non-empty, every base image is one of them: a normalized
# repository ("docker.io/library/alpine"), a repository with a tag
# ("registry.acme.example/golden/java:21"), or a prefix ending in "/*".
approved_images := config.param(["dockerfile", "approved_images"], config.param(["approved_images"], []))

_findings contains df.finding("DF-045", b.path, sprintf(
	"base image '%s' (%s) is not an approved golden image; build FROM one listed in data.portcullis.dockerfile.approved_images",
	[b.ref, b.image.name],
)) if {
	count(approved_images) > 0
	some b in df.base_images
	not _approved(b.image)
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
