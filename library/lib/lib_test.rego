# Unit tests of the shared helpers: image references, settings, input shapes, selectors.
package portcullis_lib.lib_test

import data.portcullis_lib.config
import data.portcullis_lib.dockerfile as df
import data.portcullis_lib.documents
import data.portcullis_lib.images
import data.portcullis_lib.kubernetes as k8s
import data.portcullis_lib.rules
import data.portcullis_lib.testing as t

# --- images.parse

test_parse_official_image if {
	images.parse("nginx") == {
		"ref": "nginx", "registry": "docker.io", "repository": "library/nginx",
		"name": "docker.io/library/nginx", "tag": "", "digest": "",
	}
}

test_parse_hub_user_image_with_tag if {
	img := images.parse("acme/api:1.2")
	img.name == "docker.io/acme/api"
	img.tag == "1.2"
}

test_parse_registry_with_port_tag_and_digest if {
	img := images.parse("registry.example.com:5000/team/app:v1@sha256:abc")
	img.registry == "registry.example.com:5000"
	img.repository == "team/app"
	img.tag == "v1"
	img.digest == "sha256:abc"
}

test_parse_localhost_and_hub_aliases if {
	images.parse("localhost/app").registry == "localhost"
	images.parse("index.docker.io/library/redis:7").name == "docker.io/library/redis"
}

test_allowed_prefixes if {
	images.allowed(images.parse("ghcr.io/acme/api:1"), ["ghcr.io/acme"])
	not images.allowed(images.parse("ghcr.io/acmecorp/api:1"), ["ghcr.io/acme"])
	images.allowed(images.parse("nginx:1"), ["docker.io/library/"])
	images.allowed(images.parse("anything/at:all"), ["*"])
}

test_untagged_or_latest if {
	images.untagged_or_latest(images.parse("nginx"))
	images.untagged_or_latest(images.parse("nginx:latest"))
	not images.untagged_or_latest(images.parse("nginx:1.27"))
	not images.untagged_or_latest(images.parse("nginx@sha256:abc"))
}

# --- config

test_defaults_without_data if {
	config.enabled("K8S-001")
	config.level("K8S-007") == "warn"
	config.param(["kubernetes", "min_replicas"], 2) == 2
}

test_disabled_rules if {
	not config.enabled("K8S-001") with data.portcullis.disabled_rules as ["K8S-001"]
	config.enabled("K8S-002") with data.portcullis.disabled_rules as ["K8S-001"]
}

test_enabled_rules_select if {
	config.enabled("K8S-001") with data.portcullis.enabled_rules as ["K8S-001"]
	not config.enabled("K8S-002") with data.portcullis.enabled_rules as ["K8S-001"]
}

test_severity_override if {
	config.level("K8S-007") == "deny" with data.portcullis.severity as {"K8S-007": "deny"}
	config.level("K8S-001") == "warn" with data.portcullis.severity as {"K8S-001": "warn"}
	config.level("K8S-001") == "deny" with data.portcullis.severity as {"K8S-001": "loud"}
}

test_message_format if {
	config.message(config.finding("K8S-001", "", "Deployment/web", "fix it")) == "[K8S-001] Deployment/web: fix it"
	config.message(config.finding("DF-004", "app/Dockerfile", "", "fix it")) == "[DF-004] app/Dockerfile: fix it"
	config.result(config.finding("DF-004", "", "", "fix it")) == {
		"msg": "[DF-004] fix it", "id": "DF-004", "title": rules.catalog["DF-004"].title,
	}
}

test_secret_names if {
	config.secret_name("DB_PASSWORD")
	config.secret_name("GITHUB_TOKEN")
	config.secret_name("api-key")
	config.secret_name("SSH_KEY")
	not config.secret_name("KEYCLOAK_URL")
	not config.secret_name("MONKEY")
	not config.secret_name("PWD")
	not config.secret_name("SSH_KEY") with data.portcullis.allowed_secret_names as ["SSH_KEY"]
}

test_catalog_ids_levels_fixes_and_peers if {
	count({id | some id, _ in rules.catalog; startswith(id, "K8S-")}) >= 68
	count({id | some id, _ in rules.catalog; startswith(id, "DF-")}) >= 27
	every id, r in rules.catalog {
		regex.match(`^(DF|K8S)-[0-9]{3}$`, id)
		r.level in {"deny", "warn"}
	}
	every _, r in rules.catalog {
		r.fix != ""
		is_object(r.peers)
	}

	# every seed practice is enforced by at least one Kubernetes rule or a Dockerfile rule
	every n in numbers.range(1, 12) {
		some _, r in rules.catalog
		r.practice == n
	}
}

# --- documents

test_single_document if {
	not documents.combined with input as t.deployment
	not documents.collection with input as t.deployment
	count(k8s.objects) == 1 with input as t.deployment
}

test_combined_input if {
	documents.combined with input as t.combined([t.deployment, t.pdb])
	documents.collection with input as t.combined([t.deployment, t.pdb])
	{r.path | some r in k8s.objects} == {"manifests.yaml"} with input as t.combined([t.deployment, t.pdb])
}

test_bare_array_and_list_are_collections if {
	count(k8s.objects) == 2 with input as [t.deployment, t.pdb]
	documents.collection with input as [t.deployment, t.pdb]
	lst := {"apiVersion": "v1", "kind": "List", "items": [t.deployment, t.pdb]}
	count(k8s.objects) == 2 with input as lst
	documents.collection with input as lst
}

test_dockerfile_shapes if {
	count(df.paths) == 1 with input as t.dockerfile
	count(df.paths) == 1 with input as [t.dockerfile]
	df.paths == {"a/Dockerfile", "b/Dockerfile"} with input as [
		{"path": "a/Dockerfile", "contents": t.dockerfile},
		{"path": "b/Dockerfile", "contents": t.dockerfile},
	]
	count(df.paths) == 0 with input as t.deployment
	count(k8s.objects) == 0 with input as t.dockerfile
}

test_final_chain_follows_stage_references if {
	list := t.staged([
		t.i("from", ["debian:12", "AS", "base"]),
		t.i("user", ["app"]),
		t.i("from", ["golang:1.22", "AS", "build"]),
		t.i("from", ["base"]),
	])
	df.final_chain("") == {0, 2} with input as list
	df.last_final("", "user").value == ["app"] with input as list
}

test_global_args_resolve_base_images if {
	list := t.staged([t.i("arg", ["BASE=alpine:3.20"]), t.i("from", ["${BASE}"])])
	{b.ref | some b in df.base_images} == {"alpine:3.20"} with input as list
}

# --- selectors

test_selector_match_labels_and_expressions if {
	lbls := {"app": "web", "tier": "front"}
	k8s.selector_matches({}, lbls)
	k8s.selector_matches({"matchLabels": {"app": "web"}}, lbls)
	not k8s.selector_matches({"matchLabels": {"app": "api"}}, lbls)
	k8s.selector_matches({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]}, lbls)
	k8s.selector_matches({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["back"]}]}, lbls)
	k8s.selector_matches({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, lbls)
	k8s.selector_matches({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}, lbls)
	not k8s.selector_matches({"matchExpressions": [{"key": "env", "operator": "Exists"}]}, lbls)
	not k8s.selector_matches(null, lbls)
}

test_parse_registry_host_with_port_only if {
	images.parse("myregistry:5000/app:1").registry == "myregistry:5000"
	images.allowed(images.parse("myregistry:5000/app:1"), ["myregistry:5000/app"])
}

test_secret_name_pattern_from_data if {
	config.secret_name("SIGNING_SEED") with data.portcullis.secret_name_pattern as "SEED$"
	not config.secret_name("DB_PASSWORD") with data.portcullis.secret_name_pattern as "SEED$"
}

test_comment_instructions_have_null_flags if {
	list := t.staged([
		{"Cmd": "comment", "Flags": null, "JSON": false, "Stage": 0, "SubCmd": "", "Value": ["syntax note"]},
		t.i("from", ["alpine:3.20"]),
	])
	{ins.flags | some ins in df.instructions; ins.cmd == "comment"} == {[]} with input as list
}

test_bare_pod_is_a_workload if {
	pod := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [t.container]}}
	{w.object.kind | some w in k8s.workloads} == {"Pod"} with input as pod
	count(k8s.containers) == 1 with input as pod
}
