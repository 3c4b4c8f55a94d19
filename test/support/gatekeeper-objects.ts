// Minimal Gatekeeper objects for client tests: a ConstraintTemplate of one Rego source (its
// constraint kind accepts any parameters) and a Constraint of that kind.
export const template = (src: string, name = "k8sx", kind = "K8sX") => ({
  apiVersion: "templates.gatekeeper.sh/v1",
  kind: "ConstraintTemplate",
  metadata: { name },
  spec: {
    crd: { spec: { names: { kind }, validation: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } } },
    targets: [{ target: "admission.k8s.gatekeeper.sh", rego: src }],
  },
});

export const constraint = (name: string, spec: object = {}, kind = "K8sX") => ({ apiVersion: "constraints.gatekeeper.sh/v1beta1", kind, metadata: { name }, spec });
