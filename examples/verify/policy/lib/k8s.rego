# Helpers for Kubernetes manifests, shared by the policies in package main.
package lib.k8s

import rego.v1

workload_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

default name(_) := "unnamed"

name(obj) := obj.metadata.name

kind_name(obj) := sprintf("%s/%s", [obj.kind, name(obj)])

# The pod spec of any workload.
pod_spec(obj) := obj.spec if obj.kind == "Pod"

pod_spec(obj) := obj.spec.template.spec if obj.kind in workload_kinds

pod_spec(obj) := obj.spec.jobTemplate.spec.template.spec if obj.kind == "CronJob"

containers(obj) := [c |
	spec := pod_spec(obj)
	some c in array.concat(object.get(spec, "initContainers", []), object.get(spec, "containers", []))
]

# The registry of an image reference: the first path element when it looks like a host.
registry(image) := parts[0] if {
	parts := split(image, "/")
	count(parts) > 1
	regex.match(`[.:]|^localhost$`, parts[0])
} else := "docker.io"

image_tag(image) := tag if {
	not contains(image, "@")
	parts := split(image, ":")
	count(parts) > 1
	tag := parts[count(parts) - 1]
	not contains(tag, "/")
} else := "latest" if {
	not contains(image, "@")
}

missing_labels(obj, required) := {l | some l in required; not obj.metadata.labels[l]}

is_privileged(container) if container.securityContext.privileged == true

is_privileged(container) if "SYS_ADMIN" in object.get(container, ["securityContext", "capabilities", "add"], [])

# Not covered by the tests.
uses_host_network(obj) if pod_spec(obj).hostNetwork == true
