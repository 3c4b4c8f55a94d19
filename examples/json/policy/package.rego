package main

is_package if input.dependencies

deny contains msg if {
	is_package
	some name, version in input.dependencies
	version in {"*", "latest", ""}
	msg := sprintf("dependency %s must be pinned to a version range, not %q", [name, version])
}

deny_install_scripts contains msg if {
	some hook in ["preinstall", "install", "postinstall"]
	script := input.scripts[hook]
	contains(script, "| sh")
	msg := sprintf("the %s script pipes a download into a shell: %s", [hook, script])
}

warn contains "package has no license (set \"license\")" if {
	is_package
	not input.license
}

warn_strict contains "TypeScript strict mode is off" if {
	input.compilerOptions.strict == false
}
