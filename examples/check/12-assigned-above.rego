# The same local assigned twice, and assignment inside a negation.
package examples.assigned_above

deny contains msg if {
	msg := "first"
	msg := "second"
}

allow if {
	not x := input.x
}
