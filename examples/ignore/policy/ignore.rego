# Each ignore file is checked as the list of its lines: {Kind, Value, Original}.
package main

entries contains trim_suffix(e.Value, "/") if {
	some e in input
	e.Kind == "Path"
}

deny contains msg if {
	some required in [".env", "*.pem"]
	not required in entries
	msg := sprintf("%s should be ignored so secrets are not committed or copied", [required])
}

warn contains "node_modules is not ignored" if not "node_modules" in entries
