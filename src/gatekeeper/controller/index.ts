// The cluster side of the Gatekeeper-compatible controller: see docs/gatekeeper-cluster.md.
export { ClusterSource, TEMPLATES, CONFIGS, PROVIDERS, NAMESPACES, EXPANSION_TEMPLATES } from "./source.ts";
export type { ClusterSourceOptions, LogFn } from "./source.ts";
export { constraintCRD, constraintCRDName, constraintResource, CRD_MATCH_SCHEMA, preserveUnknownFields } from "./crd.ts";
export { templateStatusErrors, constraintStatusErrors, writePodStatus } from "./status.ts";
export type { StatusError } from "./status.ts";
export { CertRotator, bundleProblem } from "./certs.ts";
export type { CertRotatorOptions, CertBundle } from "./certs.ts";
export { ClusterController } from "./cluster.ts";
export type { ClusterControllerOptions } from "./cluster.ts";
