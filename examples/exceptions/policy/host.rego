package main

deny_host_network contains msg if {
	input.spec.template.spec.hostNetwork
	msg := sprintf("Deployment %s/%s uses the host network", [input.metadata.namespace, input.metadata.name])
}

warn_namespace contains msg if {
	input.metadata.namespace == "default"
	msg := sprintf("Deployment %s is in the default namespace", [input.metadata.name])
}

# Monitoring agents need the host network: the rule deny_host_network does not apply to them.
# An exception names rules without their deny_/violation_/warn_ prefix.
exception contains rules if {
	input.metadata.namespace == "monitoring"
	rules := ["host_network"]
}
