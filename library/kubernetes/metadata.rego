# Metadata: K8S-011/012/013 (required technical, business and security labels on workloads and
# namespaces), K8S-014 (a dedicated namespace), K8S-018 (Prometheus scrape annotations).
package kubernetes.metadata

import data.portcullis_lib.config
import data.portcullis_lib.kubernetes as k8s

deny contains r if {
	some r in config.report(findings, "deny")
}

warn contains r if {
	some r in config.report(findings, "warn")
}

# Required labels per scope and category: data.portcullis.kubernetes.required_labels.
default_required_labels := {
	"workload": {
		"technical": ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version"],
		"business": ["owner", "cost-center"],
		"security": ["data-classification"],
	},
	"namespace": {
		"technical": ["environment"],
		"business": ["owner", "cost-center"],
		"security": ["pod-security.kubernetes.io/enforce"],
	},
}

label_rule_ids := {"technical": "K8S-011", "business": "K8S-012", "security": "K8S-013"}

required_labels(scope, category) := config.param(
	["kubernetes", "required_labels", scope, category],
	default_required_labels[scope][category],
)

scope(o) := "namespace" if o.kind == "Namespace"

scope(o) := "workload" if o.kind in k8s.workload_kinds

findings contains k8s.object_finding(id, r, sprintf(
	"is missing the %s label(s) %s; add them to metadata.labels",
	[category, concat(", ", sort(missing))],
)) if {
	some r in k8s.objects
	s := scope(r.object)
	some category, id in label_rule_ids
	lbls := k8s.labels(r.object)
	missing := {l | some l in required_labels(s, category); not _has_label(lbls, l)}
	count(missing) > 0
}

_has_label(lbls, l) if {
	v := lbls[l]
	v != ""
}

# K8S-014: namespaced application resources need metadata.namespace, and not a shared one.
namespaced_kinds := k8s.workload_kinds | {
	"Service", "ConfigMap", "Secret", "Ingress", "ServiceAccount", "Role", "RoleBinding",
	"PersistentVolumeClaim", "PodDisruptionBudget", "NetworkPolicy", "HorizontalPodAutoscaler",
}

forbidden_namespaces := {n | some n in config.param(["kubernetes", "forbidden_namespaces"], ["default"])}

findings contains k8s.object_finding(
	"K8S-014", r,
	"has no metadata.namespace, so it lands in whatever namespace is current (often default); set metadata.namespace to a dedicated namespace",
) if {
	some r in k8s.objects
	r.object.kind in namespaced_kinds
	k8s.namespace(r.object) == ""
}

findings contains k8s.object_finding("K8S-014", r, sprintf(
	"is in the '%s' namespace; move it to a dedicated namespace (set metadata.namespace)",
	[ns],
)) if {
	some r in k8s.objects
	r.object.kind in namespaced_kinds
	ns := k8s.namespace(r.object)
	ns in forbidden_namespaces
}

# K8S-018: pod annotations read by Prometheus' kubernetes_sd (role: pod).
scrape_annotation := config.param(["kubernetes", "prometheus", "scrape_annotation"], "prometheus.io/scrape")

port_annotation := config.param(["kubernetes", "prometheus", "port_annotation"], "prometheus.io/port")

annotations_field(o) := "metadata.annotations" if o.kind == "Pod"

else := "spec.template.metadata.annotations"

findings contains k8s.workload_finding("K8S-018", w, sprintf(
	"has no %s annotation on its pods; add %s: \"true\" and %s: \"<metrics port>\" to %s (or %s: \"false\" to opt out)",
	[scrape_annotation, scrape_annotation, port_annotation, annotations_field(w.object), scrape_annotation],
)) if {
	some w in k8s.workloads
	w.object.kind in k8s.long_running_kinds
	not scrape_annotation in object.keys(w.pod_annotations)
}

findings contains k8s.workload_finding("K8S-018", w, sprintf(
	"sets %s: \"true\" without %s; add %s: \"<metrics port>\" to %s",
	[scrape_annotation, port_annotation, port_annotation, annotations_field(w.object)],
)) if {
	some w in k8s.workloads
	w.object.kind in k8s.long_running_kinds
	w.pod_annotations[scrape_annotation] in {"true", true}
	not port_annotation in object.keys(w.pod_annotations)
}
