package main

deny contains msg if {
	input.public
	count(input.regions) < 2
	msg := sprintf("public service %s must run in at least two regions", [input.name])
}

warn contains msg if {
	input.replicas < 2
	msg := sprintf("service %s has %d replica", [input.name, input.replicas])
}
