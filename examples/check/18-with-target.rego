# `with` must replace input, data or a function.
package examples.with_target

allow if input.user == "admin"

test_allow if {
	allow with input as {"user": "admin"}
	allow with user as "admin"
}
