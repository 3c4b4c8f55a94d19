# Kubernetes objects, workloads and containers as the rule packages see them, for a single
# document or a combined input (see portcullis_lib.documents).
package portcullis_lib.kubernetes

import data.portcullis_lib.config
import data.portcullis_lib.documents

is_resource(x) if {
	is_object(x)
	is_string(x.kind)
	is_string(x.apiVersion)
}

# Every Kubernetes object: {"path": file ("" unless combined), "object": object}.
# `kind: List` documents contribute their items; bare arrays contribute their elements.
# Objects, workloads and containers are arrays, not sets: a set hashes each element (the whole
# object) on insertion, and that was most of the library's cost per document.
objects := [{"path": d.path, "object": o} |
	some d in documents.docs
	some o in _expand(d.content)
]

# The input holds at least one Kubernetes object (the rule packages check nothing otherwise).
present if count(objects) > 0

_expand(x) := [x] if {
	is_resource(x)
	x.kind != "List"
} else := [i | some i in x.items; is_resource(i)] if {
	is_resource(x)
	x.kind == "List"
} else := [i | some i in x; is_resource(i)] if {
	is_array(x)
} else := []

# Workloads: core kinds, plus the common CRDs that embed a pod template (Argo Rollouts,
# OpenKruise CloneSets, OpenShift DeploymentConfigs, Knative Services).
pod_controller_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "Rollout", "CloneSet", "DeploymentConfig"}

workload_kinds := pod_controller_kinds | {"Pod", "CronJob"}

# Kinds that run continuously (probes, Prometheus annotations apply).
long_running_kinds := workload_kinds - {"Job", "CronJob"}

# Kinds whose spec.replicas sets a number of identical pods.
replicated_kinds := {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "Rollout", "CloneSet", "DeploymentConfig"}

# Kinds whose name is shared with an unrelated core kind are told apart by API group.
knative_service(o) if {
	o.kind == "Service"
	startswith(o.apiVersion, "serving.knative.dev/")
}

is_workload(o) if {
	o.kind in workload_kinds
	not _foreign_group(o)
}

is_workload(o) if knative_service(o)

# Rollout and CloneSet only from their own API groups.
_foreign_group(o) if {
	o.kind == "Rollout"
	not startswith(o.apiVersion, "argoproj.io/")
}

_foreign_group(o) if {
	o.kind == "CloneSet"
	not startswith(o.apiVersion, "apps.kruise.io/")
}

_foreign_group(o) if {
	o.kind == "DeploymentConfig"
	not startswith(o.apiVersion, "apps.openshift.io/")
}

long_running(o) if {
	is_workload(o)
	o.kind in long_running_kinds
}

long_running(o) if knative_service(o)

pod_spec(o) := o.spec if o.kind == "Pod"

pod_spec(o) := o.spec.template.spec if o.kind in pod_controller_kinds

pod_spec(o) := o.spec.jobTemplate.spec.template.spec if o.kind == "CronJob"

pod_spec(o) := o.spec.template.spec if knative_service(o)

pod_metadata(o) := object.get(o, "metadata", {}) if o.kind == "Pod"

pod_metadata(o) := object.get(o, ["spec", "template", "metadata"], {}) if o.kind in pod_controller_kinds

pod_metadata(o) := object.get(o, ["spec", "jobTemplate", "spec", "template", "metadata"], {}) if o.kind == "CronJob"

pod_metadata(o) := object.get(o, ["spec", "template", "metadata"], {}) if knative_service(o)

name(o) := object.get(o, ["metadata", "name"], "")

namespace(o) := object.get(o, ["metadata", "namespace"], "")

labels(o) := object.get(o, ["metadata", "labels"], {})

annotations(o) := object.get(o, ["metadata", "annotations"], {})

# "Deployment/web"
resource(o) := sprintf("%s/%s", [o.kind, name(o)])

# Workloads: {"path", "object", "spec" (the pod spec), "pod_labels", "pod_annotations",
# "resource" (as findings name it), "exemptable" (an exemption may cover its findings)}.
# resource and exemptable are computed once per workload rather than once per finding.
workloads := [{
	"path": r.path,
	"object": r.object,
	"spec": spec,
	"pod_labels": object.get(meta, "labels", {}),
	"pod_annotations": pod_annotations,
	"resource": resource(r.object),
	"exemptable": _exemptable(r.object, pod_annotations),
} |
	some r in objects
	is_workload(r.object)
	spec := pod_spec(r.object)
	is_object(spec)
	meta := pod_metadata(r.object)
	pod_annotations := object.get(meta, "annotations", {})
]

_exemptable(o, pod_annotations) := true if _may_be_exempt(o, pod_annotations)

else := false

# Containers of every workload: {"workload", "container", "init": bool, "name", "label"}, where
# label is how findings name it ("container 'app'", "init container 'setup'"), made once per
# container rather than once per finding.
containers := array.concat(
	[_container(w, c, false) | some w in workloads; some c in _list(w.spec, "containers")],
	[_container(w, c, true) | some w in workloads; some c in _list(w.spec, "initContainers")],
)

_container(w, c, init) := {"workload": w, "container": c, "init": init, "name": n, "label": sprintf("%s '%s'", [_container_word(init), n])} if {
	n := object.get(c, "name", "")
} else := {"workload": w, "container": c, "init": init} # not an object: no name, and no container findings

_list(x, key) := v if {
	v := x[key]
	is_array(v)
} else := []

container_name(c) := c.name

# A container's security setting, falling back to the pod's securityContext.
effective_security(c, field) := v if {
	v := c.container.securityContext[field]
} else := v if {
	v := c.workload.spec.securityContext[field]
}

# The service account a pod runs as ("default" when none is named).
service_account(spec) := n if {
	n := spec.serviceAccountName
	is_string(n)
	n != ""
} else := n if {
	n := spec.serviceAccount
	is_string(n)
	n != ""
} else := "default"

# Findings (config.finding). `text` says what to change. A finding that an exemption covers
# carries it, {"reason", "by"}; config.report leaves it out and config.exempted reports it.
object_finding(id, r, text) := _finding(id, r.path, r.object, {}, "", text)

# A workload's and a container's findings: the common case (no exemption can apply) built
# directly, as config.finding builds it.
workload_finding(id, w, text) := [id, w.path, w.resource, text] if {
	w.exemptable == false
} else := _finding(id, w.path, w.object, w.pod_annotations, "", text)

container_finding(id, c, text) := [id, c.workload.path, c.workload.resource, concat(": ", [c.label, text])] if {
	c.workload.exemptable == false
} else := _finding(
	id, c.workload.path, c.workload.object, c.workload.pod_annotations, c.name,
	concat(": ", [c.label, text]),
)

_finding(id, path, o, pod_annotations, container, text) := config.with_exemption(config.finding(id, path, resource(o), text), e) if {
	_may_be_exempt(o, pod_annotations)
	e := exemption(id, o, pod_annotations, container)
} else := config.finding(id, path, resource(o), text)

# A cheap test first (memoised per object): most objects carry no exemption at all.
_may_be_exempt(_, _) if count(exemption_entries) > 0

_may_be_exempt(o, _) if {
	some k, _ in annotations(o)
	startswith(k, exemption_prefix)
}

_may_be_exempt(_, pod_annotations) if {
	some k, _ in pod_annotations
	startswith(k, exemption_prefix)
}

# Exemptions (library/README.md, "Exemptions"), first match wins:
# 1. an annotation on the object or its pod template, with the reason as its value:
#      exempt.portcullis.dev/K8S-004.app: "writes its cache to /tmp; ticket OPS-12"  (container app)
#      exempt.portcullis.dev/K8S-004: "..."                                          (every container)
# 2. an entry of data.portcullis.exemptions:
#      {rule: K8S-004, kind: Deployment, name: "web-*", namespace: shop, container: app, reason: "..."}
#    (rule and reason are required; kind, name (a glob), namespace and container narrow it).
# An exemption without a reason exempts nothing and is a finding itself (K8S-086).
exemption_prefix := "exempt.portcullis.dev/"

exemption(id, o, pod_annotations, container) := found[0] if {
	found := array.concat(
		[{"reason": trim_space(v), "by": sprintf("annotation %s", [k])} |
			some k in _exemption_keys(id, container)
			some a in [annotations(o), pod_annotations]
			v := a[k]
			is_string(v)
			trim_space(v) != ""
		],
		[{"reason": trim_space(e.reason), "by": sprintf("data.portcullis.exemptions[%d]", [i])} |
			some i, e in exemption_entries
			e.rule == id
			is_string(e.reason)
			trim_space(e.reason) != ""
			entry_matches(e, o, container)
		],
	)
	count(found) > 0
}

_exemption_keys(id, "") := [concat("", [exemption_prefix, id])]

_exemption_keys(id, container) := [concat("", [exemption_prefix, id, ".", container]), concat("", [exemption_prefix, id])] if container != ""

exemption_entries := [e | some e in config.param(["exemptions"], []); is_object(e)]

# entry_matches(e, o, container): kind, namespace and container equal when given; name a glob.
entry_matches(e, o, container) if {
	_field_matches(e, "kind", o.kind)
	_field_matches(e, "namespace", namespace(o))
	_field_matches(e, "container", container)
	_name_matches(e, name(o))
}

_field_matches(e, key, _) if not key in object.keys(e)

_field_matches(e, key, value) if e[key] == value

_name_matches(e, _) if not "name" in object.keys(e)

_name_matches(e, n) if glob.match(e.name, [], n)

_container_word(true) := "init container"

_container_word(false) := "container"

# Label selectors (matchLabels and matchExpressions).
selector_matches(selector, lbls) if {
	is_object(selector)
	every k, v in object.get(selector, "matchLabels", {}) {
		lbls[k] == v
	}
	every e in object.get(selector, "matchExpressions", []) {
		_expression_matches(e, lbls)
	}
}

_expression_matches(e, lbls) if {
	e.operator == "In"
	lbls[e.key] in e.values
}

_expression_matches(e, lbls) if {
	e.operator == "NotIn"
	not lbls[e.key] in e.values
}

_expression_matches(e, lbls) if {
	e.operator == "Exists"
	e.key in object.keys(lbls)
}

_expression_matches(e, lbls) if {
	e.operator == "DoesNotExist"
	not e.key in object.keys(lbls)
}

# Production workloads: in a production namespace (by name, or a Namespace object in the same
# input labelled as production), or labelled as production themselves.
production_namespaces := {n | some n in config.param(["kubernetes", "production", "namespaces"], ["production", "prod"])}

production_label := config.param(["kubernetes", "production", "label"], "environment")

production_values := {v | some v in config.param(["kubernetes", "production", "values"], ["production", "prod"])}

production(o) if namespace(o) in production_namespaces

# kubernetes.production.namespace_pattern: a regular expression over namespace names ("^prod-").
production_namespace_pattern := config.param(["kubernetes", "production", "namespace_pattern"], "")

production(o) if {
	production_namespace_pattern != ""
	regex.match(production_namespace_pattern, namespace(o))
}

production(o) if labels(o)[production_label] in production_values

production(o) if {
	some i in object.get(by_kind_name, ["Namespace", "", namespace(o)], set())
	labels(objects[i].object)[production_label] in production_values
}

# ---- Indexes for the cross-document rules ---------------------------------------------------
# Positions in `objects` / `workloads`, keyed by namespace, kind, name and label, so that a rule
# relating two kinds of objects looks up candidates instead of scanning every pair. Keys are
# nested (index[kind][namespace][...]) and the leaves are sets of positions.

# by_kind_name[kind][namespace][name]: objects of that kind and name (cluster-scoped: namespace "").
by_kind_name[kind][ns][n] contains i if {
	some i, r in objects
	kind := r.object.kind
	ns := namespace(r.object)
	n := name(r.object)
}

# The label selector of an object that selects pods (NetworkPolicy, PodDisruptionBudget, core
# Service), as {matchLabels, matchExpressions}.
selector_of(o) := o.spec.podSelector if {
	o.kind == "NetworkPolicy"
	is_object(o.spec.podSelector)
}

selector_of(o) := o.spec.selector if {
	o.kind == "PodDisruptionBudget"
	is_object(o.spec.selector)
}

selector_of(o) := {"matchLabels": o.spec.selector} if {
	o.kind == "Service"
	not knative_service(o)
	is_object(o.spec.selector)
	count(o.spec.selector) > 0
}

# selectors_by_label[kind][namespace][label][value]: selectors naming that label in matchLabels;
# open_selectors[kind][namespace]: selectors without matchLabels (only expressions, or empty).
selectors_by_label[kind][ns][k][v] contains i if {
	some i, r in objects
	sel := selector_of(r.object)
	kind := r.object.kind
	ns := namespace(r.object)
	some k, v in object.get(sel, "matchLabels", {})
}

open_selectors[kind][ns] contains i if {
	some i, r in objects
	sel := selector_of(r.object)
	count(object.get(sel, "matchLabels", {})) == 0
	kind := r.object.kind
	ns := namespace(r.object)
}

# selected_by(kind, w): an object of that kind in w's namespace selects w's pods.
selected_by(kind, w) if {
	ns := namespace(w.object)
	some k, v in w.pod_labels
	some i in object.get(selectors_by_label, [kind, ns, k, v], set())
	selector_matches(selector_of(objects[i].object), w.pod_labels)
}

selected_by(kind, w) if {
	some i in object.get(open_selectors, [kind, namespace(w.object)], set())
	selector_matches(selector_of(objects[i].object), w.pod_labels)
}

# workloads_by_label[namespace][label][value], workloads_by_namespace[namespace]: positions in workloads.
workloads_by_label[ns][k][v] contains j if {
	some j, w in workloads
	ns := namespace(w.object)
	some k, v in w.pod_labels
}

workloads_by_namespace[ns] contains j if {
	some j, w in workloads
	ns := namespace(w.object)
}

# selects_pods(o): o's selector matches the pods of a workload in the input.
selects_pods(o) if {
	sel := selector_of(o)
	some k, v in object.get(sel, "matchLabels", {})
	some j in object.get(workloads_by_label, [namespace(o), k, v], set())
	selector_matches(sel, workloads[j].pod_labels)
}

selects_pods(o) if {
	sel := selector_of(o)
	count(object.get(sel, "matchLabels", {})) == 0
	some j in object.get(workloads_by_namespace, namespace(o), set())
	selector_matches(sel, workloads[j].pod_labels)
}

# defined(kind, ns, n): the input has that object.
defined(kind, ns, n) if count(object.get(by_kind_name, [kind, ns, n], set())) > 0

# "app=web, tier=api"
labels_text(lbls) := concat(", ", sort([sprintf("%v=%v", [k, v]) | some k, v in lbls]))
