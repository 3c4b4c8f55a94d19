package kubernetes.metadata_test

import data.kubernetes.metadata
import data.portcullis_lib.testing as t

test_good_deployment_and_namespace_pass if {
	count(metadata.deny) == 0 with input as t.deployment
	count(metadata.warn) == 0 with input as t.deployment
	count(metadata.deny) == 0 with input as t.namespace
}

# K8S-011, K8S-012, K8S-013 on workloads
test_k8s_011_technical_labels if {
	r := metadata.deny with input as t.remove(t.deployment, "/metadata/labels/app.kubernetes.io~1version")
	t.msgs(r, "K8S-011") == {"[K8S-011] Deployment/web: is missing the technical label(s) app.kubernetes.io/version; add them to metadata.labels"}
	t.ids(r) == {"K8S-011"}
}

test_k8s_012_business_labels if {
	r := metadata.deny with input as t.remove(t.remove(t.deployment, "/metadata/labels/owner"), "/metadata/labels/cost-center")
	t.msgs(r, "K8S-012") == {"[K8S-012] Deployment/web: is missing the business label(s) cost-center, owner; add them to metadata.labels"}
}

test_k8s_013_security_labels if {
	r := metadata.deny with input as t.put(t.deployment, "/metadata/labels/data-classification", "")
	t.ids(r) == {"K8S-013"}
}

# ... and on namespaces
test_k8s_011_to_013_namespace_labels if {
	ns := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
	r := metadata.deny with input as ns
	t.msgs(r, "K8S-011") == {"[K8S-011] Namespace/shop: is missing the technical label(s) environment; add them to metadata.labels"}
	t.msgs(r, "K8S-013") == {"[K8S-013] Namespace/shop: is missing the security label(s) pod-security.kubernetes.io/enforce; add them to metadata.labels"}
	t.ids(r) == {"K8S-011", "K8S-012", "K8S-013"}
}

test_required_labels_from_data if {
	d := t.remove(t.deployment, "/metadata/labels/cost-center")
	count(metadata.deny) == 0 with input as d with data.portcullis.kubernetes.required_labels.workload.business as ["owner"]
	r := metadata.deny with input as t.deployment with data.portcullis.kubernetes.required_labels.workload.security as ["pci-scope"]
	t.ids(r) == {"K8S-013"}
}

test_other_kinds_need_no_labels if {
	count(metadata.deny) == 0 with input as t.pdb
}

# K8S-014
test_k8s_014_no_namespace if {
	r := metadata.deny with input as t.remove(t.deployment, "/metadata/namespace")
	t.msgs(r, "K8S-014") == {"[K8S-014] Deployment/web: has no metadata.namespace, so it lands in whatever namespace is current (often default); set metadata.namespace to a dedicated namespace"}
}

test_k8s_014_default_namespace if {
	r := metadata.deny with input as t.put(t.pdb, "/metadata/namespace", "default")
	t.msgs(r, "K8S-014") == {"[K8S-014] PodDisruptionBudget/web: is in the 'default' namespace; move it to a dedicated namespace (set metadata.namespace)"}
}

test_k8s_014_forbidden_namespaces_from_data if {
	r := metadata.deny with input as t.deployment with data.portcullis.kubernetes.forbidden_namespaces as ["default", "shop"]
	t.ids(r) == {"K8S-014"}
}

test_k8s_014_cluster_scoped_kinds_pass if {
	count(metadata.deny) == 0 with input as t.namespace
	count(metadata.deny) == 0 with input as {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "x"}}
}

# K8S-018
test_k8s_018_no_scrape_annotation if {
	r := metadata.warn with input as t.remove(t.deployment, "/spec/template/metadata/annotations")
	t.msgs(r, "K8S-018") == {`[K8S-018] Deployment/web: has no prometheus.io/scrape annotation on its pods; add prometheus.io/scrape: "true" and prometheus.io/port: "<metrics port>" to spec.template.metadata.annotations (or prometheus.io/scrape: "false" to opt out)`}
}

test_k8s_018_scrape_without_port if {
	r := metadata.warn with input as t.remove(t.deployment, "/spec/template/metadata/annotations/prometheus.io~1port")
	t.msgs(r, "K8S-018") == {`[K8S-018] Deployment/web: sets prometheus.io/scrape: "true" without prometheus.io/port; add prometheus.io/port: "<metrics port>" to spec.template.metadata.annotations`}
}

test_k8s_018_opt_out_passes if {
	d := t.put(t.deployment, "/spec/template/metadata/annotations", {"prometheus.io/scrape": "false"})
	count(metadata.warn) == 0 with input as d
}

test_k8s_018_annotation_names_from_data if {
	d := t.put(t.deployment, "/spec/template/metadata/annotations", {"metrics/scrape": "true", "metrics/port": "9090"})
	count(metadata.warn) == 0 with input as d with data.portcullis.kubernetes.prometheus as {"scrape_annotation": "metrics/scrape", "port_annotation": "metrics/port"}
	t.ids(metadata.warn) == {"K8S-018"} with input as d
}

test_k8s_018_not_for_jobs if {
	job := {
		"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "m", "namespace": "shop", "labels": t.workload_labels},
		"spec": {"template": {"spec": {"containers": [t.container]}}},
	}
	count(metadata.warn) == 0 with input as job
}

test_k8s_012_business_labels_present_passes if {
	d := t.put(t.deployment, "/metadata/labels", object.union(t.workload_labels, {"owner": "team-x", "cost-center": "cc-9"}))
	r := metadata.deny with input as d
	not "K8S-012" in t.ids(r)
}

test_k8s_013_security_labels_present_passes if {
	ns := t.put(t.namespace, "/metadata/labels/pod-security.kubernetes.io~1enforce", "baseline")
	r := metadata.deny with input as ns
	not "K8S-013" in t.ids(r)
}

test_k8s_018_bare_pod_annotations_field if {
	pod := {
		"apiVersion": "v1", "kind": "Pod",
		"metadata": {"name": "p", "namespace": "shop", "labels": t.workload_labels},
		"spec": {"containers": [t.container]},
	}
	r := metadata.warn with input as pod
	t.msgs(r, "K8S-018") == {`[K8S-018] Pod/p: has no prometheus.io/scrape annotation on its pods; add prometheus.io/scrape: "true" and prometheus.io/port: "<metrics port>" to metadata.annotations (or prometheus.io/scrape: "false" to opt out)`}
}

# K8S-086
test_k8s_086_exemption_without_reason if {
	d := t.put(t.deployment, "/spec/template/metadata/annotations/exempt.portcullis.dev~1K8S-004.web", "")
	t.msgs(metadata.deny, "K8S-086") == {"[K8S-086] Deployment/web: has the exemption annotation exempt.portcullis.dev/K8S-004.web without a reason; write the reason as its value (it exempts nothing until then)"} with input as d
	ok := t.put(t.deployment, "/metadata/annotations", {"exempt.portcullis.dev/K8S-004": "reason"})
	count(metadata.deny) == 0 with input as ok
	svc := {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "shop", "annotations": {"exempt.portcullis.dev/K8S-062": ""}}, "spec": {}}
	t.ids(metadata.deny) == {"K8S-086"} with input as svc
}

test_k8s_086_data_entry_without_reason if {
	entries := [{"rule": "K8S-004", "kind": "Deployment", "container": "web"}]
	t.msgs(metadata.deny, "K8S-086") == {"[K8S-086] Deployment/web: matches data.portcullis.exemptions[0] (rule K8S-004), which has no reason; add a reason (it exempts nothing until then)"} with input as t.deployment with data.portcullis.exemptions as entries
	count(metadata.deny) == 0 with input as t.deployment with data.portcullis.exemptions as [{"rule": "K8S-004", "kind": "Pod"}]
}
