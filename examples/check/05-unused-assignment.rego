# A local assigned with := but never read.
package examples.unused_assignment

deny contains msg if {
	container := input.spec.containers[_]
	image := container.image
	not startswith(container.name, "app-")
	msg := sprintf("bad container name %s", [container.name])
}
