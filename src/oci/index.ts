// The OCI distribution client and its pieces (see docs/oci.md):
//
//   parseReference("127.0.0.1:5000/org/policy:1.0")       → { registry, repository, tag, digest }
//   new RegistryClient({ credentials: new DockerConfigCredentials(), caFile, plainHttp, insecure })
//     .resolve(ref) / .getManifest(ref) / .putManifest(ref, bytes, mediaType, tag?)
//     .blobSize / .getBlob(ref, digest, size?) / .pushBlob(ref, data, mediaType, { mountFrom, chunkSize })
//     .listTags(ref) / .referrers(ref, digest, artifactType?) / .pushReferrer(ref, bytes, mediaType)
//   pushImage(client, ref, { config, layers, annotations, artifactType, subject }) / pullImage(client, ref)
//
// Errors are RegistryError (with the HTTP status and OCI error codes), ReferenceError and
// CredentialsError; all have messages fit for a user.

export * from "./reference.ts";
export * from "./types.ts";
export * from "./credentials.ts";
export * from "./client.ts";
export * from "./image.ts";
export * from "./conftest.ts";
export * from "./store.ts";
export * from "./transfer.ts";
