package main

deny contains msg if {
	input.kind == "Service"
	input.spec.type == "LoadBalancer"
	not input.metadata.annotations["service.beta.kubernetes.io/aws-load-balancer-internal"]
	msg := sprintf("Service %s creates a public load balancer", [input.metadata.name])
}

warn contains msg if {
	some p in input.spec.ports
	p.port != p.targetPort
	msg := sprintf("port %d forwards to %d", [p.port, p.targetPort])
}
