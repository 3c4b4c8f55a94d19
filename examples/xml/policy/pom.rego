package main

dependencies := deps if {
	deps := input.project.dependencies.dependency
	is_array(deps)
} else := [input.project.dependencies.dependency]

deny contains msg if {
	some dep in dependencies
	dep.artifactId == "log4j-core"
	semver.compare(dep.version, "2.17.1") < 0
	msg := sprintf("log4j-core %s is vulnerable (Log4Shell); use 2.17.1 or later", [dep.version])
}

warn contains msg if {
	endswith(input.project.version, "-SNAPSHOT")
	msg := sprintf("release builds should not use a SNAPSHOT version (%s)", [input.project.version])
}

warn_java contains msg if {
	to_number(input.project.properties["maven.compiler.source"]) < 11
	msg := sprintf("Java %s is old; compile for 11 or later", [input.project.properties["maven.compiler.source"]])
}
