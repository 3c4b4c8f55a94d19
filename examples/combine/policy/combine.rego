package main

deployments contains d if {
	some doc in input
	d := doc.contents
	d.kind == "Deployment"
}

deny contains msg if {
	some doc in input
	svc := doc.contents
	svc.kind == "Service"
	not selects_a_deployment(svc)
	msg := sprintf("Service %s (%s) selects no Deployment", [svc.metadata.name, doc.path])
}

selects_a_deployment(svc) if {
	some d in deployments
	labels := d.spec.template.metadata.labels
	every k, v in svc.spec.selector {
		labels[k] == v
	}
}

warn contains sprintf("checked %d documents from %d files", [count(input), count({doc.path | some doc in input})]) if true
