# Rego v0 syntax (run with --v0-compatible or --rego-version v0).
package legacy

default allow = false

allow {
	input.method == "GET"
	public_paths[input.path]
}

allow {
	input.user == data.admins[_]
}

public_paths["/health"]

public_paths["/metrics"]

deny[msg] {
	input.method == "DELETE"
	not input.user
	msg := "anonymous deletes are not allowed"
}

quota[user] = limit {
	some user
	limit := data.limits[user]
}

double(x) = y {
	y := x * 2
}
