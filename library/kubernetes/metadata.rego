# Metadata: K8S-011/012/013 (required technical, business and security labels on workloads and
# namespaces), K8S-014 (a dedicated namespace), K8S-018 (Prometheus scrape annotations).
package kubernetes.metadata

import data.portcullis_lib.config
import data.portcullis_lib.kubernetes as k8s

# The package's findings (the `_findings` rules below), evaluated only when the input holds
# Kubernetes objects: other documents do not enter those rules at all.
findings := _findings if k8s.present

default findings := set()

deny := config.report(findings, "deny")

warn := config.report(findings, "warn")

exempted := config.exempted(findings)

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

scope(o) := "workload" if k8s.is_workload(o)

_findings contains k8s.object_finding(id, r, sprintf(
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

_findings contains k8s.object_finding(
	"K8S-014", r,
	"has no metadata.namespace, so it lands in whatever namespace is current (often default); set metadata.namespace to a dedicated namespace",
) if {
	some r in k8s.objects
	r.object.kind in namespaced_kinds
	k8s.namespace(r.object) == ""
}

_findings contains k8s.object_finding("K8S-014", r, sprintf(
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

_findings contains k8s.workload_finding("K8S-018", w, sprintf(
	"has no %s annotation on its pods; add %s: \"true\" and %s: \"<metrics port>\" to %s (or %s: \"false\" to opt out)",
	[scrape_annotation, scrape_annotation, port_annotation, annotations_field(w.object), scrape_annotation],
)) if {
	some w in k8s.workloads
	k8s.long_running(w.object)
	not scrape_annotation in object.keys(w.pod_annotations)
}

_findings contains k8s.workload_finding("K8S-018", w, sprintf(
	"sets %s: \"true\" without %s; add %s: \"<metrics port>\" to %s",
	[scrape_annotation, port_annotation, port_annotation, annotations_field(w.object)],
)) if {
	some w in k8s.workloads
	k8s.long_running(w.object)
	w.pod_annotations[scrape_annotation] in {"true", true}
	not port_annotation in object.keys(w.pod_annotations)
}

# K8S-086: an exemption must say why; one without a reason exempts nothing and is reported.
_findings contains k8s.object_finding("K8S-086", r, sprintf(
	"has the exemption annotation %s without a reason; write the reason as its value (it exempts nothing until then)",
	[k],
)) if {
	some r in k8s.objects
	some k in _reasonless_annotations(r.object)
}

_reasonless_annotations(o) := {k |
	some a in [k8s.annotations(o), object.get(k8s.pod_metadata(o), "annotations", {})]
	some k, v in a
	startswith(k, k8s.exemption_prefix)
	not _reason(v)
} if k8s.is_workload(o)

else := {k |
	some k, v in k8s.annotations(o)
	startswith(k, k8s.exemption_prefix)
	not _reason(v)
}

_reason(v) if {
	is_string(v)
	trim_space(v) != ""
}

_findings contains k8s.object_finding("K8S-086", r, sprintf(
	"matches data.portcullis.exemptions[%d] (rule %v), which has no reason; add a reason (it exempts nothing until then)",
	[i, object.get(e, "rule", "?")],
)) if {
	some i, e in k8s.exemption_entries
	not _reason(object.get(e, "reason", ""))
	some r in k8s.objects
	k8s.entry_matches(object.remove(e, ["container"]), r.object, "")
}
