# Deprecated builtins: accepted in Rego v0, rejected by --strict.
package examples.deprecated

allow {
	re_match("^app-", input.name)
	any([input.a, input.b])
	s := set_diff({1, 2}, {2})
	count(s) == 1
}

ips := cast_set(input.ips)
