// The Kubernetes API client of the controller and of audit (loaders layer): see README.md.
export { KubeClient, refs, resourcePath } from "./client.ts";
export type { ResourceRef, ListOptions, ListPage, WatchEvent, WatchOptions, PatchType, ClientOptions, Obj, Query, RequestOpts } from "./client.ts";
export { loadKubeConfig } from "./config.ts";
export type { Connection, KubeConfigOptions } from "./config.ts";
export { Informer, objectKey } from "./informer.ts";
export type { InformerOptions, InformerEvent } from "./informer.ts";
export { applyCRD, waitEstablished, crdDiffers } from "./crd.ts";
export { KubeError, isNotFound, isConflict, isGone, errorText } from "./errors.ts";
