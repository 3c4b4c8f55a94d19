# Rego v0 syntax in a v1 module: every rule-shape error is listed.
package examples.keywords_required

allow {
	input.admin
}

deny[msg] {
	msg := "no"
}
