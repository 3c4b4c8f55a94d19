# A syntax error: reported with the source line and a caret.
package examples.parse_error

allow if {
	input.ports == [80, 443 8080]
}
