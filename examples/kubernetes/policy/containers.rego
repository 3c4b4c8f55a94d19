# Rules for the containers of workloads (Deployments, StatefulSets, DaemonSets, Jobs, CronJobs).
package main

import data.kubernetes

deny contains msg if {
	some container in kubernetes.containers
	container.securityContext.privileged
	msg := sprintf("%s %s: container %s must not run privileged", [input.kind, input.metadata.name, container.name])
}

deny_latest_tag contains msg if {
	some container in kubernetes.containers
	endswith(container.image, ":latest")
	msg := sprintf("%s %s: container %s uses the mutable tag latest (%s)", [input.kind, input.metadata.name, container.name, container.image])
}

warn contains msg if {
	some container in kubernetes.containers
	not container.resources.limits.memory
	msg := sprintf("%s %s: container %s has no memory limit", [input.kind, input.metadata.name, container.name])
}
