package example

import rego.v1

default allow := false

# Admins may do anything; others may read their own documents.
allow if "admin" in input.user.roles

allow if {
	input.method == "GET"
	input.path == ["documents", input.user.name]
}

reasons contains msg if {
	not allow
	msg := sprintf("%s may not %s /%s", [input.user.name, input.method, concat("/", input.path)])
}
