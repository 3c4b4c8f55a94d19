# Storage: K8S-019 (StatefulSets), K8S-020 (PersistentVolumes and claims) — flagged unless
# acknowledged by an annotation — and K8S-021 (hostPath volumes).
package kubernetes.storage

import data.portcullis_lib.config
import data.portcullis_lib.kubernetes as k8s

# The package's findings (the `_findings` rules below), evaluated only when the input holds
# Kubernetes objects: other documents do not enter those rules at all.
findings := _findings if k8s.present

default findings := set()

deny := config.report(findings, "deny")

warn := config.report(findings, "warn")

exempted := config.exempted(findings)

# Stateful resources need an explicit acknowledgement (a reason, ticket or "true"):
#   metadata.annotations["portcullis.dev/stateful-acknowledged"]
ack_annotation := config.param(["kubernetes", "stateful_ack_annotation"], "portcullis.dev/stateful-acknowledged")

acknowledged(o) if {
	v := k8s.annotations(o)[ack_annotation]
	is_string(v)
	not lower(trim_space(v)) in {"", "false", "no"}
}

_findings contains k8s.object_finding("K8S-019", r, sprintf(
	"is stateful; prefer a managed data service, or acknowledge it with the annotation %s: \"<reason or ticket>\"",
	[ack_annotation],
)) if {
	some r in k8s.objects
	r.object.kind == "StatefulSet"
	not acknowledged(r.object)
}

_findings contains k8s.object_finding("K8S-020", r, sprintf(
	"requests persistent storage; confirm backup and retention, then acknowledge it with the annotation %s: \"<reason or ticket>\"",
	[ack_annotation],
)) if {
	some r in k8s.objects
	r.object.kind in {"PersistentVolume", "PersistentVolumeClaim"}
	not acknowledged(r.object)
}

# K8S-021: hostPath volumes, unless under a prefix in data.portcullis.kubernetes.allowed_host_paths.
allowed_host_paths := config.param(["kubernetes", "allowed_host_paths"], [])

_findings contains k8s.workload_finding("K8S-021", w, sprintf(
	"mounts the host path '%s' (volume '%s'); use an emptyDir, configMap, secret or persistentVolumeClaim volume instead",
	[v.hostPath.path, v.name],
)) if {
	some w in k8s.workloads
	some v in object.get(w.spec, "volumes", [])
	v.hostPath
	not _allowed_host_path(v.hostPath.path)
}

_findings contains k8s.object_finding("K8S-021", r, sprintf(
	"is backed by the host path '%s'; use a network or CSI volume source instead",
	[r.object.spec.hostPath.path],
)) if {
	some r in k8s.objects
	r.object.kind == "PersistentVolume"
	r.object.spec.hostPath
	not _allowed_host_path(r.object.spec.hostPath.path)
}

_allowed_host_path(path) if {
	some prefix in allowed_host_paths
	_under(path, trim_suffix(prefix, "/"))
}

_under(path, prefix) if path == prefix

_under(path, prefix) if startswith(path, concat("", [prefix, "/"]))

# K8S-040: the volume types the Restricted Pod Security Standard allows.
allowed_volume_types := {
	"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
	"projected", "secret",
}

_findings contains k8s.workload_finding("K8S-040", w, sprintf(
	"uses a %s volume ('%s'); use configMap, secret, emptyDir, projected, downwardAPI, csi, ephemeral or persistentVolumeClaim volumes",
	[t, v.name],
)) if {
	some w in k8s.workloads
	some v in object.get(w.spec, "volumes", [])
	some t, _ in v
	t != "name"
	not t in allowed_volume_types
}

# K8S-041: container runtime sockets give full control of the node.
runtime_socket_names := {"docker.sock", "containerd.sock", "crio.sock", "cri-dockerd.sock", "podman.sock", "dockershim.sock"}

# The directories that hold them, mounted whole.
runtime_socket_dirs := {"/var/run", "/run", "/var/run/docker", "/var/run/containerd", "/run/containerd", "/var/run/crio", "/run/crio"}

_findings contains k8s.workload_finding("K8S-041", w, sprintf(
	"mounts the container runtime socket '%s' (volume '%s'); remove the volume",
	[v.hostPath.path, v.name],
)) if {
	some w in k8s.workloads
	some v in object.get(w.spec, "volumes", [])
	_socket_path(v.hostPath.path)
}

_socket_path(p) if trim_suffix(p, "/") in runtime_socket_dirs

_socket_path(p) if {
	parts := split(p, "/")
	parts[count(parts) - 1] in runtime_socket_names
}

# K8S-042: host paths that expose the node (even when allowed_host_paths lists them).
sensitive_host_paths := {"/", "/etc", "/proc", "/sys", "/dev", "/boot", "/root", "/var/run", "/run", "/var/lib/kubelet", "/var/lib/docker", "/var/lib/containerd", "/var/log"}

_findings contains k8s.workload_finding("K8S-042", w, sprintf(
	"mounts the sensitive host path '%s' (volume '%s'); remove the volume",
	[v.hostPath.path, v.name],
)) if {
	some w in k8s.workloads
	some v in object.get(w.spec, "volumes", [])
	p := v.hostPath.path
	not _socket_path(p)
	some s in sensitive_host_paths
	_sensitive(p, s)
}

_sensitive(p, "/") if trim_suffix(p, "/") == ""

_sensitive(p, s) if {
	s != "/"
	_under(trim_suffix(p, "/"), s)
}
