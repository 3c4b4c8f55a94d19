# EDN leaves arrive as text: keywords keep their colon, numbers and booleans are strings.
package main

deny contains "the service must not run with :debug? true" if input[":service"][":debug?"] == "true"

deny_password contains "database password is written in the config" if {
	input[":database"][":password"] != ""
}

warn contains msg if {
	port := to_number(input[":service"][":port"])
	port < 1024
	msg := sprintf("port %d needs root", [port])
}
