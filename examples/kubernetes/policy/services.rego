package main

warn_nodeport contains {"msg": msg, "severity": "medium"} if {
	input.kind == "Service"
	input.spec.type == "NodePort"
	msg := sprintf("Service %s is exposed on every node (type NodePort)", [input.metadata.name])
}
