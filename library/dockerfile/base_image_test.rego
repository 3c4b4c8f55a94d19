package dockerfile.base_image_test

import data.dockerfile.base_image
import data.portcullis_lib.testing as t

test_good_dockerfile_passes if {
	count(base_image.deny) == 0 with input as t.dockerfile
	count(base_image.warn) == 0 with input as t.dockerfile
}

# DF-001
test_df_001_registry_not_allowed if {
	r := base_image.deny with input as t.staged([t.i("from", ["quay.io/acme/base:1.0"])])
	t.msgs(r, "DF-001") == {"[DF-001] base image 'quay.io/acme/base:1.0' (quay.io/acme/base) is not from an allowed registry; build FROM an approved image or add its registry to data.portcullis.dockerfile.allowed_registries"}
	t.ids(r) == {"DF-001"}
}

test_df_001_docker_hub_user_images_not_allowed_by_default if {
	t.ids(base_image.deny) == {"DF-001"} with input as t.staged([t.i("from", ["bitnami/redis:7.2"])])
	count(base_image.deny) == 0 with input as t.staged([t.i("from", ["redis:7.2"])])
}

test_df_001_allowed_registries_from_data if {
	list := t.staged([t.i("from", ["quay.io/acme/base:1.0"])])
	count(base_image.deny) == 0 with input as list with data.portcullis.dockerfile.allowed_registries as ["quay.io/acme"]
	count(base_image.deny) == 0 with input as list with data.portcullis.allowed_registries as ["quay.io"]
}

test_df_001_scratch_and_stage_references_skipped if {
	list := t.staged([
		t.i("from", ["golang:1.22", "AS", "Build"]),
		t.i("from", ["build"]),
		t.i("from", ["scratch"]),
		t.i("user", ["10001"]),
	])
	count(base_image.deny) == 0 with input as list
}

# DF-002
test_df_002_latest if {
	r := base_image.deny with input as t.staged([t.i("from", ["node:latest", "AS", "deps"])])
	t.msgs(r, "DF-002") == {"[DF-002] base image 'node:latest' uses the latest tag; pin a version tag (FROM node:<version>)"}
}

test_df_002_untagged_via_global_arg if {
	r := base_image.deny with input as t.staged([t.i("arg", ["BASE=python"]), t.i("from", ["${BASE}"])])
	t.msgs(r, "DF-002") == {"[DF-002] base image 'python' has no tag; pin a version tag (FROM python:<version>)"}
}

test_df_002_digest_without_tag_passes if {
	list := t.staged([t.i("from", ["alpine@sha256:1e42bbe2508154c9126d48c2b8a75420c3544343bf86fd041fb7527e017a4b4a"])])
	count(base_image.deny) == 0 with input as list
}

test_df_002_unresolved_variable_skipped if {
	count(base_image.deny) == 0 with input as t.staged([t.i("from", ["${BASE_IMAGE}"])])
}

# DF-003 (opt-in)
test_df_003_digest_required if {
	r := base_image.deny with input as t.dockerfile with data.portcullis.dockerfile.require_digest as true
	t.msgs(r, "DF-003") == {
		"[DF-003] base image 'golang:1.22.5-bookworm' is not pinned by digest; use FROM golang:1.22.5-bookworm@sha256:<digest>",
		"[DF-003] base image 'gcr.io/distroless/static-debian12:nonroot' is not pinned by digest; use FROM gcr.io/distroless/static-debian12:nonroot@sha256:<digest>",
	}
}

test_df_003_digest_present_passes if {
	list := t.staged([t.i("from", ["alpine:3.20@sha256:1e42bbe2508154c9126d48c2b8a75420c3544343bf86fd041fb7527e017a4b4a"])])
	count(base_image.deny) == 0 with input as list with data.portcullis.dockerfile.require_digest as true
}

test_combined_messages_name_the_file if {
	inp := [{"path": "svc/Dockerfile", "contents": t.staged([t.i("from", ["node"])])}]
	r := base_image.deny with input as inp
	t.msgs(r, "DF-002") == {"[DF-002] svc/Dockerfile: base image 'node' has no tag; pin a version tag (FROM node:<version>)"}
}

test_df_002_demoted_to_warn if {
	list := t.staged([t.i("from", ["node"])])
	t.ids(base_image.warn) == {"DF-002"} with input as list with data.portcullis.severity as {"DF-002": "warn"}
}

# DF-045 (on when approved_images is set)
test_df_045_not_a_golden_image if {
	list := t.staged([t.i("from", ["golang:1.22", "AS", "build"]), t.i("from", ["registry.acme.example/golden/static:1"])])
	golden := ["registry.acme.example/golden/*"]
	r := base_image.deny with input as list with data.portcullis.dockerfile.approved_images as golden with data.portcullis.allowed_registries as ["*"]
	t.msgs(r, "DF-045") == {"[DF-045] base image 'golang:1.22' (docker.io/library/golang) is not an approved golden image; build FROM one listed in data.portcullis.dockerfile.approved_images"}
	t.ids(r) == {"DF-045"}
}

test_df_045_repository_and_tag_entries if {
	list := t.staged([t.i("from", ["golang:1.22", "AS", "build"]), t.i("from", ["alpine:3.20"])])
	count(base_image.deny) == 0 with input as list with data.portcullis.approved_images as ["docker.io/library/golang", "docker.io/library/alpine:3.20"]
	t.ids(base_image.deny) == {"DF-045"} with input as list with data.portcullis.approved_images as ["docker.io/library/golang", "docker.io/library/alpine:3.19"]
	count(base_image.deny) == 0 with input as list
}
