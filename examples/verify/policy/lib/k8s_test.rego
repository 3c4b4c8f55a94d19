package lib.k8s_test

import rego.v1

import data.lib.k8s

pod := {"kind": "Pod", "metadata": {"name": "web"}, "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}}

deployment := {
	"kind": "Deployment",
	"metadata": {"name": "api", "labels": {"app": "api"}},
	"spec": {"template": {"spec": {
		"initContainers": [{"name": "init", "image": "busybox"}],
		"containers": [{"name": "api", "image": "ghcr.io/acme/api:2.0"}],
	}}},
}

test_name if k8s.name(pod) == "web"

test_name_default if k8s.name({"kind": "Pod"}) == "unnamed"

test_kind_name if k8s.kind_name(deployment) == "Deployment/api"

test_pod_containers if {
	names := [c.name | some c in k8s.containers(pod)]
	names == ["app"]
}

test_deployment_containers_include_init if {
	names := [c.name | some c in k8s.containers(deployment)]
	names == ["init", "api"]
}

test_cronjob_containers if {
	cron := {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "job"}]}}}}}}
	count(k8s.containers(cron)) == 1
}

test_registry_host if k8s.registry("ghcr.io/acme/api:2.0") == "ghcr.io"

test_registry_port if k8s.registry("localhost:5000/app") == "localhost:5000"

test_registry_default if k8s.registry("library/nginx") == "docker.io"

test_image_tag if k8s.image_tag("nginx:1.25") == "1.25"

test_image_tag_latest if k8s.image_tag("nginx") == "latest"

test_image_tag_registry_port if k8s.image_tag("localhost:5000/app") == "latest"

test_image_digest_has_no_tag if not k8s.image_tag("nginx@sha256:abc")

test_missing_labels if {
	k8s.missing_labels(deployment, {"app", "team"}) == {"team"}
}

test_privileged if k8s.is_privileged({"securityContext": {"privileged": true}})

test_sys_admin_is_privileged if {
	k8s.is_privileged({"securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE", "SYS_ADMIN"]}}})
}

test_not_privileged if not k8s.is_privileged({"name": "app"})

# A table-driven test: each key is a sub-test (opa test reports them one by one).
registry_cases := {
	"plain": {"image": "nginx", "want": "docker.io"},
	"host": {"image": "quay.io/org/app:1", "want": "quay.io"},
	"port": {"image": "registry.local:5000/app", "want": "registry.local:5000"},
}

test_registry_table[name] if {
	some name, tc in registry_cases
	k8s.registry(tc.image) == tc.want
}
