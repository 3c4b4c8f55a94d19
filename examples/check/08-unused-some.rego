# Declared but never used `some` variables are errors even without --strict.
package examples.unused_some

allow if {
	some i, j
	input.items[i] == "x"
}
