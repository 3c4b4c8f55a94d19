# Rego v1 modules may not call deprecated builtins at all.
package examples.deprecated_v1

allow if {
	all([input.a, input.b])
	net.cidr_overlap("10.0.0.0/8", input.ip)
}
