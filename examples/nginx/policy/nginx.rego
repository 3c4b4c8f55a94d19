package main

directives contains d if {
	walk(input, [_, d])
	d.name
}

deny contains "server_tokens must be off (it reveals the nginx version)" if {
	some d in directives
	d.name == "server_tokens"
	d.parameters[0] == "on"
}

warn contains msg if {
	some d in directives
	d.name == "listen"
	not "ssl" in d.parameters
	msg := sprintf("listen %s without ssl", [d.parameters[0]])
}
