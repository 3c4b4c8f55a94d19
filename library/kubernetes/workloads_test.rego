package kubernetes.workloads_test

import data.kubernetes.workloads
import data.portcullis_lib.testing as t

c0 := "/spec/template/spec/containers/0"

service_account := {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "web", "namespace": "shop"}}

test_good_deployment_passes if {
	count(workloads.deny) == 0 with input as t.deployment
	count(workloads.warn) == 0 with input as t.deployment
	count(workloads.warn) == 0 with input as t.combined([t.deployment, service_account])
}

# K8S-052
test_k8s_052_selector_mismatch if {
	d := t.put(t.deployment, "/spec/selector", {"matchLabels": {"app.kubernetes.io/name": "api"}})
	t.msgs(workloads.deny, "K8S-052") == {"[K8S-052] Deployment/web: has a spec.selector that does not match its pod template labels {app.kubernetes.io/name=web}; make them agree"} with input as d
	rc := {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "rc", "namespace": "shop"}, "spec": {"selector": {"app": "x"}, "template": {"metadata": {"labels": {"app": "y"}}, "spec": {"containers": []}}}}
	t.ids(workloads.deny) == {"K8S-052"} with input as rc
	count(workloads.deny) == 0 with input as t.put(rc, "/spec/selector/app", "y")
}

# K8S-053
test_k8s_053_duplicate_env if {
	d := t.put(t.deployment, concat("", [c0, "/env"]), [{"name": "A", "value": "1"}, {"name": "B", "value": "1"}, {"name": "A", "value": "2"}])
	t.msgs(workloads.deny, "K8S-053") == {"[K8S-053] Deployment/web: container 'web': sets the environment variable A 2 times; keep one (the last one wins silently)"} with input as d
}

# K8S-056, K8S-057
cronjob := {
	"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": "shop"},
	"spec": {"schedule": "0 3 * * *", "startingDeadlineSeconds": 300, "jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}}},
}

job := {
	"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once", "namespace": "shop"},
	"spec": {"ttlSecondsAfterFinished": 3600, "template": {"spec": {"containers": []}}},
}

test_k8s_056_cronjob_deadline if {
	count(workloads.warn) == 0 with input as cronjob
	t.ids(workloads.warn) == {"K8S-056"} with input as t.remove(cronjob, "/spec/startingDeadlineSeconds")
}

test_k8s_057_job_ttl if {
	count(workloads.warn) == 0 with input as job
	t.ids(workloads.warn) == {"K8S-057"} with input as t.remove(job, "/spec/ttlSecondsAfterFinished")
	owned := t.put(t.remove(job, "/spec/ttlSecondsAfterFinished"), "/metadata/ownerReferences", [{"kind": "CronJob", "name": "nightly"}])
	count(workloads.warn) == 0 with input as owned
}

# K8S-058
test_k8s_058_bare_pod if {
	pod := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}, "spec": {"serviceAccountName": "web", "containers": []}}
	t.msgs(workloads.warn, "K8S-058") == {"[K8S-058] Pod/p: is a bare Pod, which nothing reschedules when its node fails; run it from a Deployment, StatefulSet, DaemonSet or Job"} with input as pod
	count(workloads.warn) == 0 with input as t.put(pod, "/metadata/ownerReferences", [{"kind": "ReplicaSet", "name": "x"}])
}

# K8S-059
test_k8s_059_statefulset_service if {
	sts := object.union(t.deployment, {"kind": "StatefulSet", "spec": {"serviceName": "web"}})
	count(workloads.warn) == 0 with input as sts
	t.ids(workloads.warn) == {"K8S-059"} with input as t.remove(sts, "/spec/serviceName")
	svc := {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"}, "spec": {"selector": {"app.kubernetes.io/name": "web"}}}
	t.msgs(workloads.warn, "K8S-059") == {"[K8S-059] manifests.yaml: StatefulSet/web: names the Service 'web', which is not headless; set clusterIP: None on it"} with input as t.combined([sts, svc, service_account])
	count(workloads.warn) == 0 with input as t.combined([sts, t.put(svc, "/spec/clusterIP", "None"), service_account])
}

# K8S-060
test_k8s_060_kube_system if {
	t.ids(workloads.deny) == {"K8S-060"} with input as t.put(t.deployment, "/metadata/namespace", "kube-system")
}

# K8S-061
test_k8s_061_removed_api if {
	d := t.put(t.deployment, "/apiVersion", "extensions/v1beta1")
	t.msgs(workloads.deny, "K8S-061") == {"[K8S-061] Deployment/web: uses apiVersion extensions/v1beta1, which Kubernetes no longer serves for Deployment; use apps/v1"} with input as d
	pdb := {"apiVersion": "policy/v1beta1", "kind": "PodDisruptionBudget", "metadata": {"name": "x", "namespace": "shop"}, "spec": {}}
	t.ids(workloads.deny) == {"K8S-061"} with input as pdb
}

# K8S-079 (collections only)
test_k8s_079_service_account_not_defined if {
	t.msgs(workloads.warn, "K8S-079") == {"[K8S-079] manifests.yaml: Deployment/web: runs as ServiceAccount 'web', which is not in the input; add it or fix serviceAccountName"} with input as t.combined([t.deployment])
	other_ns := t.put(service_account, "/metadata/namespace", "other")
	t.ids(workloads.warn) == {"K8S-079"} with input as t.combined([t.deployment, other_ns])
	count(workloads.warn) == 0 with input as t.combined([t.remove(t.deployment, "/spec/template/spec/serviceAccountName")])
}

# K8S-082
test_k8s_082_configmap_secrets if {
	cm := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "shop"}, "data": {"LOG_LEVEL": "info", "DB_PASSWORD": "hunter2"}}
	t.msgs(workloads.deny, "K8S-082") == {"[K8S-082] ConfigMap/cfg: holds 'DB_PASSWORD', which looks like a secret; move it to a Secret"} with input as cm
	count(workloads.deny) == 0 with input as cm with data.portcullis.allowed_secret_names as ["DB_PASSWORD"]
}

# K8S-083
test_k8s_083_tiller_and_dashboard if {
	tiller := t.put(t.deployment, concat("", [c0, "/image"]), "gcr.io/kubernetes-helm/tiller:v2.16.12")
	t.msgs(workloads.deny, "K8S-083") == {"[K8S-083] Deployment/web: container 'web': runs Tiller ('gcr.io/kubernetes-helm/tiller:v2.16.12'); remove it (Helm 3 needs no in-cluster component)"} with input as tiller
	dash := t.put(t.deployment, concat("", [c0, "/image"]), "kubernetesui/dashboard:v2.7.0")
	t.ids(workloads.deny) == {"K8S-083"} with input as dash
	own := t.put(t.deployment, concat("", [c0, "/image"]), "ghcr.io/acme/dashboard:1.0")
	count(workloads.deny) == 0 with input as own
}

test_k8s_059_service_missing if {
	sts := object.union(t.deployment, {"kind": "StatefulSet", "spec": {"serviceName": "web"}})
	t.msgs(workloads.warn, "K8S-059") == {"[K8S-059] manifests.yaml: StatefulSet/web: names the Service 'web', which is not in the input; add it as a headless Service (clusterIP: None)"} with input as t.combined([sts, service_account])
}
