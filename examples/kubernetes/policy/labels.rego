package main

violation_labels contains msg if {
	input.kind != "ConfigMap"
	not input.metadata.labels["app.kubernetes.io/name"]
	msg := sprintf("%s %s: missing label app.kubernetes.io/name", [input.kind, input.metadata.name])
}
