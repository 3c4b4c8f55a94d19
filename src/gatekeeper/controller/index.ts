// The cluster side of the Gatekeeper-compatible controller: see docs/gatekeeper-cluster.md.
export { ClusterSource, TEMPLATES, CONFIGS, PROVIDERS, NAMESPACES } from "./source.ts";
export type { ClusterSourceOptions, LogFn } from "./source.ts";
export { constraintCRD, constraintCRDName, constraintResource, CRD_MATCH_SCHEMA, preserveUnknownFields } from "./crd.ts";
export { templateStatusErrors, constraintStatusErrors, writePodStatus } from "./status.ts";
export type { StatusError } from "./status.ts";
export { CertRotator, bundleProblem } from "./certs.ts";
export type { CertRotatorOptions } from "./certs.ts";
export { makeCertificate, makeBundle, pem, rsaKeyPair } from "./x509.ts";
export type { CertBundle, CertSpec, BundleOptions } from "./x509.ts";
export { ClusterController } from "./cluster.ts";
export type { ClusterControllerOptions } from "./cluster.ts";
