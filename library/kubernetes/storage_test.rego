package kubernetes.storage_test

import data.kubernetes.storage
import data.portcullis_lib.testing as t

statefulset := object.union(t.deployment, {"kind": "StatefulSet", "spec": {"serviceName": "web"}})

pvc := {
	"apiVersion": "v1", "kind": "PersistentVolumeClaim",
	"metadata": {"name": "data", "namespace": "shop"},
	"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
}

pv := {
	"apiVersion": "v1", "kind": "PersistentVolume",
	"metadata": {"name": "nfs-1"},
	"spec": {"capacity": {"storage": "1Gi"}, "nfs": {"server": "nfs.example", "path": "/exports/1"}},
}

ack := {"portcullis.dev/stateful-acknowledged": "DBA-1234"}

test_good_deployment_passes if {
	count(storage.deny) == 0 with input as t.deployment
	count(storage.warn) == 0 with input as t.deployment
}

# K8S-019
test_k8s_019_statefulset_unacknowledged if {
	r := storage.warn with input as statefulset
	t.msgs(r, "K8S-019") == {`[K8S-019] StatefulSet/web: is stateful; prefer a managed data service, or acknowledge it with the annotation portcullis.dev/stateful-acknowledged: "<reason or ticket>"`}
}

test_k8s_019_statefulset_acknowledged if {
	count(storage.warn) == 0 with input as t.put(statefulset, "/metadata/annotations", ack)
}

test_k8s_019_acknowledgement_false_does_not_count if {
	s := t.put(statefulset, "/metadata/annotations", {"portcullis.dev/stateful-acknowledged": "false"})
	t.ids(storage.warn) == {"K8S-019"} with input as s
}

test_k8s_019_annotation_name_from_data if {
	s := t.put(statefulset, "/metadata/annotations", {"acme.io/approved": "yes"})
	count(storage.warn) == 0 with input as s with data.portcullis.kubernetes.stateful_ack_annotation as "acme.io/approved"
}

# K8S-020
test_k8s_020_pvc_and_pv_unacknowledged if {
	t.ids(storage.warn) == {"K8S-020"} with input as pvc
	r := storage.warn with input as pv
	t.msgs(r, "K8S-020") == {`[K8S-020] PersistentVolume/nfs-1: requests persistent storage; confirm backup and retention, then acknowledge it with the annotation portcullis.dev/stateful-acknowledged: "<reason or ticket>"`}
}

test_k8s_020_acknowledged if {
	count(storage.warn) == 0 with input as t.put(pvc, "/metadata/annotations", ack)
}

# K8S-021
test_k8s_021_host_path_volume if {
	d := t.put(t.deployment, "/spec/template/spec/volumes", [{"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}}, {"name": "tmp", "emptyDir": {}}])
	r := storage.deny with input as d
	t.msgs(r, "K8S-021") == {"[K8S-021] Deployment/web: mounts the host path '/var/run/docker.sock' (volume 'sock'); use an emptyDir, configMap, secret or persistentVolumeClaim volume instead"}
}

test_k8s_021_allowed_host_paths_from_data if {
	d := t.put(t.deployment, "/spec/template/spec/volumes", [{"name": "logs", "hostPath": {"path": "/data/log/pods"}}])
	count(storage.deny) == 0 with input as d with data.portcullis.kubernetes.allowed_host_paths as ["/data/log/"]
	t.ids(storage.deny) == {"K8S-021"} with input as d with data.portcullis.kubernetes.allowed_host_paths as ["/data/logs"]
}

test_k8s_021_host_path_persistent_volume if {
	hp := t.put(t.put(pv, "/metadata/annotations", ack), "/spec", {"hostPath": {"path": "/mnt/data"}})
	r := storage.deny with input as hp
	t.ids(r) == {"K8S-021"}
	count(storage.deny) == 0 with input as pv
}

test_k8s_021_allowed_host_path_exact if {
	d := t.put(t.deployment, "/spec/template/spec/volumes", [{"name": "logs", "hostPath": {"path": "/data/log"}}])
	count(storage.deny) == 0 with input as d with data.portcullis.kubernetes.allowed_host_paths as ["/data/log"]
}

test_k8s_019_enabled_rules_select if {
	count(storage.warn) == 0 with input as statefulset with data.portcullis.enabled_rules as ["K8S-021"]
	t.ids(storage.warn) == {"K8S-019"} with input as statefulset with data.portcullis.enabled_rules as ["K8S-019"]
}

# K8S-040
test_k8s_040_volume_types if {
	d := t.put(t.deployment, "/spec/template/spec/volumes", [{"name": "nfs", "nfs": {"server": "nas", "path": "/x"}}, {"name": "tmp", "emptyDir": {}}])
	t.msgs(storage.warn, "K8S-040") == {"[K8S-040] Deployment/web: uses a nfs volume ('nfs'); use configMap, secret, emptyDir, projected, downwardAPI, csi, ephemeral or persistentVolumeClaim volumes"} with input as d
}

# K8S-041
test_k8s_041_runtime_socket if {
	d := t.put(t.deployment, "/spec/template/spec/volumes", [{"name": "sock", "hostPath": {"path": "/run/containerd/containerd.sock"}}])
	t.ids(storage.deny) == {"K8S-021", "K8S-041"} with input as d
	t.msgs(storage.deny, "K8S-041") == {"[K8S-041] Deployment/web: mounts the container runtime socket '/run/containerd/containerd.sock' (volume 'sock'); remove the volume"} with input as d
	t.ids(storage.deny) == {"K8S-041"} with input as d with data.portcullis.kubernetes.allowed_host_paths as ["/run"]
}

# K8S-042
test_k8s_042_sensitive_host_paths if {
	every p in ["/", "/etc/", "/proc/1", "/var/lib/kubelet/pods"] {
		d := t.put(t.deployment, "/spec/template/spec/volumes", [{"name": "h", "hostPath": {"path": p}}])
		t.ids(storage.deny) == {"K8S-042"} with input as d with data.portcullis.kubernetes.allowed_host_paths as ["/"]
	}
}

test_k8s_042_other_paths_pass if {
	d := t.put(t.deployment, "/spec/template/spec/volumes", [{"name": "h", "hostPath": {"path": "/etcd-data"}}])
	count(storage.deny) == 0 with input as d with data.portcullis.kubernetes.allowed_host_paths as ["/etcd-data"]
}

test_k8s_041_other_sockets_pass if {
	d := t.put(t.deployment, "/spec/template/spec/volumes", [{"name": "s", "hostPath": {"path": "/var/run/thing.sock"}}])
	not "K8S-041" in t.ids(storage.deny) with input as d
	dir := t.put(t.deployment, "/spec/template/spec/volumes", [{"name": "s", "hostPath": {"path": "/var/run/"}}])
	"K8S-041" in t.ids(storage.deny) with input as dir
}
