package main

deny contains "debug mode must be off in deployed configuration" if input.server.debug == true

deny_unpinned contains msg if {
	some dep in input.project.dependencies
	not regex.match(`[<>=~!]`, dep)
	msg := sprintf("dependency %q has no version constraint", [dep])
}

warn contains msg if {
	min := trim_prefix(input.project["requires-python"], ">=")
	semver.compare(sprintf("%s.0", [min]), "3.10.0") < 0
	msg := sprintf("requires-python %s allows Python versions past end of life", [input.project["requires-python"]])
}

warn_line_length contains sprintf("line-length %d is longer than 120", [input.tool.black["line-length"]]) if {
	input.tool.black["line-length"] > 120
}
