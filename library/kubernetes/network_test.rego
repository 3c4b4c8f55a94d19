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

c0 := "/spec/template/spec/containers/0"

service := {
	"apiVersion": "v1", "kind": "Service",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"selector": {"app.kubernetes.io/name": "web"}, "ports": [{"port": 80, "targetPort": "http"}]},
}

ingress := {
	"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {
		"tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
		"rules": [{"host": "shop.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}],
	},
}

test_good_service_and_ingress_pass if {
	count(network.deny) == 0 with input as service
	count(network.warn) == 0 with input as service
	count(network.deny) == 0 with input as ingress
	count(network.warn) == 0 with input as t.combined([t.deployment, service, t.network_policy])
}

# K8S-047, K8S-048
test_k8s_047_ssh_port if {
	d := t.put(t.deployment, concat("", [c0, "/ports"]), [{"containerPort": 22}])
	t.ids(network.deny) == {"K8S-047"} with input as d
	count(network.warn) == 0 with input as d
}

test_k8s_048_privileged_port if {
	d := t.put(t.deployment, concat("", [c0, "/ports"]), [{"containerPort": 80}, {"containerPort": 8443}])
	t.msgs(network.warn, "K8S-048") == {"[K8S-048] Deployment/web: container 'web': listens on the privileged port 80; use a port of 1024 or above (and map it in the Service)"} with input as d
}

# K8S-062..064
test_k8s_062_node_port if {
	t.ids(network.warn) == {"K8S-062"} with input as t.put(service, "/spec/type", "NodePort")
}

test_k8s_063_load_balancer if {
	lb := t.put(service, "/spec/type", "LoadBalancer")
	t.msgs(network.warn, "K8S-063") == {"[K8S-063] Service/web: is a LoadBalancer open to any source; set spec.loadBalancerSourceRanges to the clients' CIDRs"} with input as lb
	count(network.warn) == 0 with input as t.put(lb, "/spec/loadBalancerSourceRanges", ["10.0.0.0/8"])
}

test_k8s_064_external_ips if {
	t.ids(network.deny) == {"K8S-064"} with input as t.put(service, "/spec/externalIPs", ["1.2.3.4"])
}

# K8S-065
test_k8s_065_ingress_tls if {
	t.msgs(network.deny, "K8S-065") == {"[K8S-065] Ingress/web: serves plain HTTP (no spec.tls); add spec.tls with a certificate Secret for its hosts"} with input as t.remove(ingress, "/spec/tls")
	two := t.put(ingress, "/spec/rules/-", {"host": "admin.example.com"})
	t.msgs(network.deny, "K8S-065") == {"[K8S-065] Ingress/web: has no TLS entry for host 'admin.example.com'; add it to spec.tls[].hosts"} with input as two
}

# K8S-066
test_k8s_066_nginx_snippet if {
	d := t.put(ingress, "/metadata/annotations", {"nginx.ingress.kubernetes.io/server-snippet": "location /x {}", "nginx.ingress.kubernetes.io/rewrite-target": "/"})
	t.msgs(network.deny, "K8S-066") == {"[K8S-066] Ingress/web: sets the ingress-nginx annotation nginx.ingress.kubernetes.io/server-snippet, which injects raw nginx configuration (CVE-2021-25742); remove it"} with input as d
}

# K8S-077, K8S-078 (collections only)
test_k8s_077_service_selects_nothing if {
	other := t.put(service, "/spec/selector", {"app.kubernetes.io/name": "api"})
	t.msgs(network.warn, "K8S-077") == {"[K8S-077] manifests.yaml: Service/web: selects no pods of the input (selector {app.kubernetes.io/name=api}); fix spec.selector or add the workload"} with input as t.combined([t.deployment, other, t.network_policy])
	count(network.warn) == 0 with input as other
	no_selector := t.remove(service, "/spec/selector")
	count(network.warn) == 0 with input as t.combined([t.deployment, no_selector, t.network_policy])
}

test_k8s_078_network_policy_selects_nothing if {
	other := t.put(t.network_policy, "/spec/podSelector", {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In", "values": ["api"]}]})
	t.ids(network.warn) == {"K8S-078"} with input as t.combined([t.deployment, other])
	all_pods := t.put(t.network_policy, "/spec/podSelector", {})
	count(network.warn) == 0 with input as t.combined([all_pods])
	count(network.deny) == 0 with input as t.combined([t.deployment, all_pods])
}

# Knative Services are workloads, not core Services
test_knative_service_is_a_workload if {
	kn := {
		"apiVersion": "serving.knative.dev/v1", "kind": "Service",
		"metadata": {"name": "fn", "namespace": "shop"},
		"spec": {"template": {"metadata": {"labels": {"app": "fn"}}, "spec": {"containers": [{"image": "registry.k8s.io/pause:3.9", "ports": [{"containerPort": 22}]}]}}},
	}
	t.ids(network.deny) == {"K8S-047"} with input as kn
	t.ids(network.deny) == {"K8S-017", "K8S-047"} with input as t.combined([kn])
}
