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

_expand(x) := [x] if {
	is_resource(x)
	x.kind != "List"
} else := [i | some i in x.items; is_resource(i)] if {
	is_resource(x)
	x.kind == "List"
} else := [i | some i in x; is_resource(i)] if {
	is_array(x)
} else := []

pod_controller_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"}

workload_kinds := pod_controller_kinds | {"Pod", "CronJob"}

# Kinds that run continuously (probes, Prometheus annotations apply).
long_running_kinds := workload_kinds - {"Job", "CronJob"}

pod_spec(o) := o.spec if o.kind == "Pod"

pod_spec(o) := o.spec.template.spec if o.kind in pod_controller_kinds

pod_spec(o) := o.spec.jobTemplate.spec.template.spec if o.kind == "CronJob"

pod_metadata(o) := object.get(o, "metadata", {}) if o.kind == "Pod"

pod_metadata(o) := object.get(o, ["spec", "template", "metadata"], {}) if o.kind in pod_controller_kinds

pod_metadata(o) := object.get(o, ["spec", "jobTemplate", "spec", "template", "metadata"], {}) if o.kind == "CronJob"

name(o) := object.get(o, ["metadata", "name"], "")

namespace(o) := object.get(o, ["metadata", "namespace"], "")

labels(o) := object.get(o, ["metadata", "labels"], {})

annotations(o) := object.get(o, ["metadata", "annotations"], {})

# "Deployment/web"
resource(o) := sprintf("%s/%s", [o.kind, name(o)])

# Workloads: {"path", "object", "spec" (the pod spec), "pod_labels", "pod_annotations"}.
workloads := [{
	"path": r.path,
	"object": r.object,
	"spec": spec,
	"pod_labels": object.get(meta, "labels", {}),
	"pod_annotations": object.get(meta, "annotations", {}),
} |
	some r in objects
	r.object.kind in workload_kinds
	spec := pod_spec(r.object)
	is_object(spec)
	meta := pod_metadata(r.object)
]

# Containers of every workload: {"workload", "container", "init": bool}.
containers := array.concat(
	[{"workload": w, "container": c, "init": false} | some w in workloads; some c in _list(w.spec, "containers")],
	[{"workload": w, "container": c, "init": true} | some w in workloads; some c in _list(w.spec, "initContainers")],
)

_list(x, key) := v if {
	v := x[key]
	is_array(v)
} else := []

container_name(c) := object.get(c.container, "name", "")

# A container's security setting, falling back to the pod's securityContext.
effective_security(c, field) := v if {
	v := c.container.securityContext[field]
} else := v if {
	v := c.workload.spec.securityContext[field]
}

# Findings. `text` says what to change.
object_finding(id, r, text) := config.finding(id, r.path, resource(r.object), text)

workload_finding(id, w, text) := config.finding(id, w.path, resource(w.object), text)

container_finding(id, c, text) := config.finding(
	id, c.workload.path, resource(c.workload.object),
	sprintf("%s '%s': %s", [_container_word(c), container_name(c), text]),
)

_container_word(c) := "init container" if c.init

else := "container"

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

production(o) if labels(o)[production_label] in production_values

production(o) if {
	some r in objects
	r.object.kind == "Namespace"
	name(r.object) == namespace(o)
	labels(r.object)[production_label] in production_values
}

# "app=web, tier=api"
labels_text(lbls) := concat(", ", sort([sprintf("%v=%v", [k, v]) | some k, v in lbls]))
