package security.pods

deny contains "pods must not share the host PID namespace" if input.spec.hostPID

warn contains msg if {
	some c in input.spec.containers
	c.securityContext.runAsUser == 0
	msg := sprintf("container %s runs as root", [c.name])
}
