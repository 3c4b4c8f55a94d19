# Workload hygiene: K8S-052 (selector matches the template), K8S-053 (duplicate env vars),
# K8S-056 (CronJob deadline), K8S-057 (Job TTL), K8S-058 (bare Pods), K8S-059 (StatefulSet
# serviceName), K8S-060 (kube-system), K8S-061 (deprecated API versions), K8S-079 (ServiceAccount
# defined — collections only), K8S-082 (secrets in ConfigMaps), K8S-083 (Tiller, dashboard).
package kubernetes.workloads

import data.portcullis_lib.config
import data.portcullis_lib.documents
import data.portcullis_lib.images
import data.portcullis_lib.kubernetes as k8s

# The package's findings (the `_findings` rules below), evaluated only when the input holds
# Kubernetes objects: other documents do not enter those rules at all.
findings := _findings if k8s.present

default findings := set()

deny := config.report(findings, "deny")

warn := config.report(findings, "warn")

exempted := config.exempted(findings)

# K8S-052
_findings contains k8s.workload_finding("K8S-052", w, sprintf(
	"has a spec.selector that does not match its pod template labels {%s}; make them agree",
	[k8s.labels_text(w.pod_labels)],
)) if {
	some w in k8s.workloads
	w.object.kind in k8s.pod_controller_kinds
	sel := w.object.spec.selector
	is_object(sel)
	not k8s.selector_matches(_label_selector(w.object.kind, sel), w.pod_labels)
}

# ReplicationControllers use a plain map as selector.
_label_selector("ReplicationController", sel) := {"matchLabels": sel}

_label_selector(kind, sel) := sel if kind != "ReplicationController"

# K8S-053
_findings contains k8s.container_finding("K8S-053", c, sprintf(
	"sets the environment variable %s %d times; keep one (the last one wins silently)",
	[n, k],
)) if {
	some c in k8s.containers
	names := [e.name | some e in object.get(c.container, "env", [])]
	some n in {x | some x in names}
	k := count([1 | some x in names; x == n])
	k > 1
}

# K8S-056
_findings contains k8s.object_finding(
	"K8S-056", r,
	"has no spec.startingDeadlineSeconds, so missed runs pile up after downtime; set it",
) if {
	some r in k8s.objects
	r.object.kind == "CronJob"
	not r.object.spec.startingDeadlineSeconds
}

# K8S-057: finished Jobs (not those a CronJob owns) linger without a TTL.
_findings contains k8s.object_finding(
	"K8S-057", r,
	"has no spec.ttlSecondsAfterFinished, so finished pods stay forever; set it",
) if {
	some r in k8s.objects
	r.object.kind == "Job"
	not "ttlSecondsAfterFinished" in object.keys(r.object.spec)
	count([o | some o in object.get(r.object, ["metadata", "ownerReferences"], []); o.kind == "CronJob"]) == 0
}

# K8S-058
_findings contains k8s.object_finding(
	"K8S-058", r,
	"is a bare Pod, which nothing reschedules when its node fails; run it from a Deployment, StatefulSet, DaemonSet or Job",
) if {
	some r in k8s.objects
	r.object.kind == "Pod"
	count(object.get(r.object, ["metadata", "ownerReferences"], [])) == 0
}

# K8S-059: a StatefulSet's pods get DNS names from a headless Service.
_findings contains k8s.object_finding(
	"K8S-059", r,
	"has no spec.serviceName; create a headless Service (clusterIP: None) and name it there",
) if {
	some r in k8s.objects
	r.object.kind == "StatefulSet"
	not r.object.spec.serviceName
}

_findings contains k8s.object_finding("K8S-059", r, sprintf(
	"names the Service '%s', which is not headless; set clusterIP: None on it",
	[r.object.spec.serviceName],
)) if {
	documents.collection
	some r in k8s.objects
	r.object.kind == "StatefulSet"
	some i in object.get(k8s.by_kind_name, ["Service", k8s.namespace(r.object), r.object.spec.serviceName], {})
	not k8s.objects[i].object.spec.clusterIP == "None"
}

_findings contains k8s.object_finding("K8S-059", r, sprintf(
	"names the Service '%s', which is not in the input; add it as a headless Service (clusterIP: None)",
	[r.object.spec.serviceName],
)) if {
	documents.collection
	some r in k8s.objects
	r.object.kind == "StatefulSet"
	is_string(r.object.spec.serviceName)
	not k8s.defined("Service", k8s.namespace(r.object), r.object.spec.serviceName)
}

# K8S-060
_findings contains k8s.workload_finding(
	"K8S-060", w,
	"runs in kube-system, which is for the cluster's own components; deploy it into the application's namespace",
) if {
	some w in k8s.workloads
	k8s.namespace(w.object) == "kube-system"
}

# K8S-061: API versions removed from Kubernetes (apiVersion/kind -> the current one).
removed_apis := {
	"extensions/v1beta1": {
		"Deployment": "apps/v1", "DaemonSet": "apps/v1", "ReplicaSet": "apps/v1",
		"Ingress": "networking.k8s.io/v1", "NetworkPolicy": "networking.k8s.io/v1",
		"PodSecurityPolicy": "none (removed; use Pod Security Admission)",
	},
	"apps/v1beta1": {"Deployment": "apps/v1", "StatefulSet": "apps/v1"},
	"apps/v1beta2": {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1", "ReplicaSet": "apps/v1"},
	"networking.k8s.io/v1beta1": {"Ingress": "networking.k8s.io/v1", "IngressClass": "networking.k8s.io/v1"},
	"batch/v1beta1": {"CronJob": "batch/v1"},
	"batch/v2alpha1": {"CronJob": "batch/v1"},
	"policy/v1beta1": {"PodDisruptionBudget": "policy/v1", "PodSecurityPolicy": "none (removed; use Pod Security Admission)"},
	"autoscaling/v2beta1": {"HorizontalPodAutoscaler": "autoscaling/v2"},
	"autoscaling/v2beta2": {"HorizontalPodAutoscaler": "autoscaling/v2"},
	"rbac.authorization.k8s.io/v1beta1": {"Role": "rbac.authorization.k8s.io/v1", "ClusterRole": "rbac.authorization.k8s.io/v1", "RoleBinding": "rbac.authorization.k8s.io/v1", "ClusterRoleBinding": "rbac.authorization.k8s.io/v1"},
	"rbac.authorization.k8s.io/v1alpha1": {"Role": "rbac.authorization.k8s.io/v1", "ClusterRole": "rbac.authorization.k8s.io/v1", "RoleBinding": "rbac.authorization.k8s.io/v1", "ClusterRoleBinding": "rbac.authorization.k8s.io/v1"},
	"storage.k8s.io/v1beta1": {"StorageClass": "storage.k8s.io/v1", "CSIDriver": "storage.k8s.io/v1", "CSINode": "storage.k8s.io/v1", "VolumeAttachment": "storage.k8s.io/v1", "CSIStorageCapacity": "storage.k8s.io/v1"},
	"admissionregistration.k8s.io/v1beta1": {"MutatingWebhookConfiguration": "admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration": "admissionregistration.k8s.io/v1"},
	"apiextensions.k8s.io/v1beta1": {"CustomResourceDefinition": "apiextensions.k8s.io/v1"},
	"scheduling.k8s.io/v1beta1": {"PriorityClass": "scheduling.k8s.io/v1"},
	"scheduling.k8s.io/v1alpha1": {"PriorityClass": "scheduling.k8s.io/v1"},
	"discovery.k8s.io/v1beta1": {"EndpointSlice": "discovery.k8s.io/v1"},
	"flowcontrol.apiserver.k8s.io/v1beta1": {"FlowSchema": "flowcontrol.apiserver.k8s.io/v1", "PriorityLevelConfiguration": "flowcontrol.apiserver.k8s.io/v1"},
	"flowcontrol.apiserver.k8s.io/v1beta2": {"FlowSchema": "flowcontrol.apiserver.k8s.io/v1", "PriorityLevelConfiguration": "flowcontrol.apiserver.k8s.io/v1"},
	"node.k8s.io/v1beta1": {"RuntimeClass": "node.k8s.io/v1"},
	"certificates.k8s.io/v1beta1": {"CertificateSigningRequest": "certificates.k8s.io/v1"},
	"coordination.k8s.io/v1beta1": {"Lease": "coordination.k8s.io/v1"},
}

_findings contains k8s.object_finding("K8S-061", r, sprintf(
	"uses apiVersion %s, which Kubernetes no longer serves for %s; use %s",
	[r.object.apiVersion, r.object.kind, now],
)) if {
	some r in k8s.objects
	now := removed_apis[r.object.apiVersion][r.object.kind]
}

# K8S-079 (collections only): the ServiceAccount a workload names is in the input.
_findings contains k8s.workload_finding("K8S-079", w, sprintf(
	"runs as ServiceAccount '%s', which is not in the input; add it or fix serviceAccountName",
	[sa],
)) if {
	documents.collection
	some w in k8s.workloads
	sa := k8s.service_account(w.spec)
	sa != "default"
	not k8s.defined("ServiceAccount", k8s.namespace(w.object), sa)
}

# K8S-082: ConfigMap keys that look like secrets.
_findings contains k8s.object_finding("K8S-082", r, sprintf(
	"holds '%s', which looks like a secret; move it to a Secret",
	[k],
)) if {
	some r in k8s.objects
	r.object.kind == "ConfigMap"
	some k, _ in object.get(r.object, "data", {})
	config.secret_name(k)
}

# K8S-083: Tiller (Helm 2) and the Kubernetes dashboard are cluster-admin backdoors.
_findings contains k8s.container_finding("K8S-083", c, sprintf(
	"runs %s ('%s'); remove it (%s)",
	[what, c.container.image, why],
)) if {
	some c in k8s.containers
	is_string(c.container.image)
	[what, why] := _backdoor(images.parse(c.container.image).repository)
}

_backdoor(repo) := ["Tiller", "Helm 3 needs no in-cluster component"] if endswith(repo, "/tiller")

_backdoor(repo) := ["the Kubernetes dashboard", "use kubectl or a read-only viewer with SSO"] if {
	some name in ["kubernetesui/dashboard", "kubernetes-dashboard", "kubernetes-dashboard-amd64"]
	_repo_is(repo, name)
}

_repo_is(repo, name) if repo == name

_repo_is(repo, name) if endswith(repo, concat("", ["/", name]))
