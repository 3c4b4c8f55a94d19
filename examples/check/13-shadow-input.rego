# Locals named input or data.
package examples.shadow_input

allow if {
	input := {"user": "alice"}
	input.user == "alice"
}

names := [data | data := input.items[_]]
