package main

deny contains msg if {
	some c in input.components
	c.name == "lodash"
	semver.compare(c.version, "4.17.21") < 0
	msg := sprintf("lodash %s has known prototype pollution issues; use 4.17.21", [c.version])
}

warn contains msg if {
	some c in input.components
	not c.licenses
	msg := sprintf("component %s declares no license", [c.name])
}
