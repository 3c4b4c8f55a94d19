# Assigning to a function argument.
package examples.arg_redeclared

normalize(name) := out if {
	name := lower(name)
	out := name
}
