package main

deny contains msg if {
	some pkg in input.packages
	startswith(pkg.licenseDeclared, "GPL")
	msg := sprintf("package %s is licensed %s, which this product cannot ship", [pkg.name, pkg.licenseDeclared])
}

warn contains msg if {
	some pkg in input.packages
	pkg.licenseConcluded == "NOASSERTION"
	msg := sprintf("package %s has no concluded license", [pkg.name])
}

warn_version contains sprintf("SPDX document version %s is not 2.3", [input.spdxVersion]) if input.spdxVersion != "SPDX-2.3"
