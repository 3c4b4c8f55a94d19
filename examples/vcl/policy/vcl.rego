package main

deny contains msg if {
	some name, entries in input.acl
	some entry in entries
	contains(entry, "/0")
	msg := sprintf("acl %s allows every address (%s)", [name, entry])
}

warn contains msg if {
	some name, backend in input.backend
	backend[".port"] == "\"80\""
	msg := sprintf("backend %s talks plain HTTP on port 80", [name])
}
