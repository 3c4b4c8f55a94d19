// OPA bundles: read (archives and directories, with limits and signature verification), write
// (as `opa build`), sign (as `opa build --signing-key` / `opa sign`). The library the server, the
// CLI and the OCI client use; see docs/bundles.md.

export {
  BundleError,
  readBundle,
  readBundleArchive,
  readBundleDirectory,
  writeBundle,
  bundleEntries,
  signBundle,
  signedToken,
  bundleFileInfos,
  signFileInfos,
  signaturesJSON,
  verifyBundleSignature,
  parseClaims,
  packagePath,
  bundleLimits,
  readKeyArgument,
  type Bundle,
  type BundleModule,
  type ReadOptions,
  type WriteOptions,
  type VerificationConfig,
  type SigningConfig,
  type KeyConfig,
  type FileInfo,
  type SignaturesConfig,
} from "./bundle.ts";
export { DEFAULT_TAR_LIMITS, readTarGz, writeTarGz, type TarLimits, type TarEntry } from "./tar.ts";
export { hashFile, hashDocument, isStructuredDoc, canonicalText, HASH_ALGORITHMS } from "./hash.ts";
export { manifestRoots, manifestJSON, rootPathsOverlap, rootPathsContain, type Manifest } from "./manifest.ts";
export { parseRaw, writeRaw, rawToValue, rawToJS, rawFromJS, RawNumber, type Raw, type RawObject } from "./rawjson.ts";
export { SIGNING_ALGORITHMS, isSigningAlgorithm, type SigningAlgorithm } from "./jws.ts";
export { buildBundle, buildArchive, type BuildOptions } from "./build.ts";
