# Fixtures and helpers for the library's unit tests (loaded only with the tests).
package portcullis_lib.testing

# ids(results): the rule ids of a deny/warn set.
ids(results) := {r.id | some r in results}

# msgs(results, id): the messages of one rule.
msgs(results, id) := {r.msg | some r in results; r.id == id}

# patch(doc, ops): JSON Patch, e.g. patch(deployment, [{"op": "add", "path": "/spec/replicas", "value": 1}]).
patch(doc, ops) := json.patch(doc, ops)

put(doc, path, value) := json.patch(doc, [{"op": "add", "path": path, "value": value}])

remove(doc, path) := json.patch(doc, [{"op": "remove", "path": path}])

# combined(docs): the input `conftest test --combine` builds from one file.
combined(docs) := [{"path": "manifests.yaml", "contents": d} | some d in docs]

container := {
	"name": "web",
	"image": "registry.k8s.io/e2e-test-images/agnhost:2.52",
	"ports": [{"name": "http", "containerPort": 8080}],
	"securityContext": {
		"allowPrivilegeEscalation": false,
		"readOnlyRootFilesystem": true,
		"capabilities": {"drop": ["ALL"]},
	},
	"resources": {
		"requests": {"cpu": "100m", "memory": "128Mi", "ephemeral-storage": "100Mi"},
		"limits": {"cpu": "500m", "memory": "256Mi", "ephemeral-storage": "1Gi"},
	},
	"imagePullPolicy": "Always",
	"livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
	"readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
}

workload_labels := {
	"app.kubernetes.io/name": "web",
	"app.kubernetes.io/instance": "web-prod",
	"app.kubernetes.io/version": "2.52",
	"owner": "team-shop",
	"cost-center": "cc-1234",
	"data-classification": "internal",
}

# A Deployment that passes every per-document rule.
deployment := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop", "labels": workload_labels},
	"spec": {
		"replicas": 3,
		"strategy": {"type": "RollingUpdate"},
		"selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
		"template": {
			"metadata": {
				"labels": {"app.kubernetes.io/name": "web"},
				"annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8080"},
			},
			"spec": {
				"serviceAccountName": "web",
				"automountServiceAccountToken": false,
				"priorityClassName": "standard",
				"securityContext": {
					"runAsNonRoot": true,
					"runAsUser": 10001,
					"runAsGroup": 10001,
					"seccompProfile": {"type": "RuntimeDefault"},
				},
				"topologySpreadConstraints": [{
					"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
					"labelSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
				}],
				"containers": [container],
			},
		},
	},
}

namespace := {
	"apiVersion": "v1",
	"kind": "Namespace",
	"metadata": {"name": "shop", "labels": {
		"environment": "production",
		"owner": "team-shop",
		"cost-center": "cc-1234",
		"pod-security.kubernetes.io/enforce": "restricted",
	}},
}

pdb := {
	"apiVersion": "policy/v1",
	"kind": "PodDisruptionBudget",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}}},
}

network_policy := {
	"apiVersion": "networking.k8s.io/v1",
	"kind": "NetworkPolicy",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}}, "policyTypes": ["Ingress"]},
}

# Dockerfile instructions as conftest parses them; staged() numbers the stages.
i(cmd, value) := {"Cmd": cmd, "Flags": [], "JSON": false, "Stage": 0, "SubCmd": "", "Value": value}

# exec form: CMD ["..."]
j(cmd, value) := object.union(i(cmd, value), {"JSON": true})

# with flags: ADD --checksum=... / RUN --mount=...
f(cmd, flags, value) := object.union(i(cmd, value), {"Flags": flags})

staged(list) := [object.union(x, {"Stage": n}) |
	some k, x in list
	n := max([0, count([1 | some m, y in list; m <= k; y.Cmd == "from"]) - 1])
]

# A Dockerfile that passes every rule.
dockerfile := staged([
	i("from", ["golang:1.22.5-bookworm", "AS", "build"]),
	i("run", ["apt-get update && apt-get upgrade -y && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*"]),
	i("workdir", ["/src"]),
	i("copy", [".", "."]),
	i("run", ["go build -o /out/app ./cmd/app"]),
	i("from", ["gcr.io/distroless/static-debian12:nonroot"]),
	i("copy", ["/out/app", "/app"]),
	i("user", ["65532:65532"]),
	i("healthcheck", ["CMD", "/app healthcheck"]),
	j("entrypoint", ["/app"]),
])

# with_final(extra): the good Dockerfile with instructions appended to its final stage.
with_final(extra) := staged(array.concat([x | some x in dockerfile], extra))
