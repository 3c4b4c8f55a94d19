package main

deny contains msg if {
	some svc in input.service
	some name, cfg in svc
	some c in cfg
	c.tls == false
	msg := sprintf("service %s serves without TLS", [name])
}

warn contains msg if {
	some svc in input.service
	some name, cfg in svc
	some c in cfg
	c.port < 1024
	msg := sprintf("service %s uses privileged port %d", [name, c.port])
}
