package kubernetes.images

deny contains msg if {
	some c in input.spec.containers
	not contains(c.image, ":")
	msg := sprintf("container %s: image %s has no tag", [c.name, c.image])
}
