package kubernetes.network_test

import data.kubernetes.network
import data.portcullis_lib.testing as t

test_good_deployment_passes if {
	count(network.deny) == 0 with input as t.deployment
	count(network.deny) == 0 with input as t.combined([t.deployment, t.network_policy])
}

# K8S-017 (combined input only)
test_k8s_017_no_network_policy if {
	r := network.deny with input as t.combined([t.deployment, t.pdb])
	t.msgs(r, "K8S-017") == {"[K8S-017] manifests.yaml: Deployment/web: is not selected by any NetworkPolicy; add one in the same namespace whose podSelector matches the pod labels {app.kubernetes.io/name=web}"}
}

test_k8s_017_empty_pod_selector_selects_all if {
	np := t.put(t.network_policy, "/spec/podSelector", {})
	count(network.deny) == 0 with input as t.combined([t.deployment, np])
}

test_k8s_017_policy_in_other_file_counts if {
	inp := [
		{"path": "deploy.yaml", "contents": t.deployment},
		{"path": "policies.yaml", "contents": t.network_policy},
	]
	count(network.deny) == 0 with input as inp
}

test_k8s_017_non_matching_selector if {
	np := t.put(t.network_policy, "/spec/podSelector", {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "NotIn", "values": ["web"]}]})
	t.ids(network.deny) == {"K8S-017"} with input as t.combined([t.deployment, np])
}

test_k8s_017_not_reported_per_document if {
	count(network.deny) == 0 with input as t.deployment
}

# K8S-022
test_k8s_022_host_network if {
	r := network.deny with input as t.put(t.deployment, "/spec/template/spec/hostNetwork", true)
	t.msgs(r, "K8S-022") == {"[K8S-022] Deployment/web: uses the host's network namespace; remove spec.hostNetwork or set it to false"}
}

test_k8s_022_host_network_false_passes if {
	count(network.deny) == 0 with input as t.put(t.deployment, "/spec/template/spec/hostNetwork", false)
}

# K8S-027
test_k8s_027_host_port if {
	r := network.deny with input as t.put(t.deployment, "/spec/template/spec/containers/0/ports/0/hostPort", 8080)
	t.msgs(r, "K8S-027") == {"[K8S-027] Deployment/web: container 'web': binds host port 8080; remove ports[].hostPort and expose the port through a Service"}
}

test_k8s_027_host_port_zero_passes if {
	count(network.deny) == 0 with input as t.put(t.deployment, "/spec/template/spec/containers/0/ports/0/hostPort", 0)
}

test_k8s_022_demoted_to_warn if {
	d := t.put(t.deployment, "/spec/template/spec/hostNetwork", true)
	t.ids(network.warn) == {"K8S-022"} with input as d with data.portcullis.severity as {"K8S-022": "warn"}
}
