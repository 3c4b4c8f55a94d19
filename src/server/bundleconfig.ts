// OPA's configuration of bundle downloads: `services` (url, headers, bearer credentials,
// response_header_timeout_seconds), `bundles` (service, resource, persist,
// polling, signing, size_limit_bytes), `keys` (verification keys), `persistence_directory`.
// Anything else in these sections that would change what is downloaded or trusted (other
// credential types, TLS options, `trigger: manual`, the legacy `bundle` key) is refused with a
// clear error. A service with `type: oci` is an OCI registry (OPA's OCI downloader): its URL
// names the registry host and the scheme (http: plain HTTP), a bundle's `resource` is an image
// reference whose repository and tag (or digest) are pulled from that host.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { KeyConfig, VerificationConfig } from "../bundle/index.ts";
import { isSigningAlgorithm } from "../bundle/index.ts";
import { parseReference, ReferenceError, type Reference } from "../oci/reference.ts";
import type { VerifyPolicy } from "../sign/verify.ts";
import { serviceTransport, CredentialsError, type ServiceTransport } from "./credentials.ts";

/** The User-Agent of requests to services. */
export const USER_AGENT = "Portcullis (OPA-compatible bundle client)";

export class BundleConfigError extends Error {}

export interface ServiceConfig {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** Sends requests with the service's TLS settings and credentials (credentials.ts). */
  transport: ServiceTransport;
  responseHeaderTimeoutMs: number;
  /** "oci": an OCI registry (OPA's `type: oci`); undefined: an OPA bundle server. */
  type?: "oci";
}

export interface BundleSourceConfig {
  name: string;
  service: ServiceConfig;
  resource: string;
  persist: boolean;
  minDelayMs: number;
  maxDelayMs: number;
  /** Seconds to ask the server to hold a request (long polling); undefined: plain polling. */
  longPollingTimeoutSeconds?: number;
  verification?: VerificationConfig;
  sizeLimitBytes: number;
  /** For an OCI service: the image pulled (registry = the service URL's host). */
  ociRef?: Reference;
}

export interface BundlesConfig {
  bundles: BundleSourceConfig[];
  persistenceDirectory: string;
  /**
   * Portcullis's own (`run --verify-key` and the keyless flags): the cosign signature every
   * image pulled from an OCI service must carry; checked on the manifest's digest before any
   * layer is fetched, so an unsigned or re-pushed image is never activated.
   */
  ociVerify?: VerifyPolicy;
}

type Obj = Record<string, unknown>;

const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

function num(v: unknown, key: string, dflt: number | undefined, min = 0): number | undefined {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min) throw new BundleConfigError(`${key}: want a number ≥ ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function str(v: unknown, key: string, dflt = ""): string {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "string") throw new BundleConfigError(`${key}: want a string, got ${JSON.stringify(v)}`);
  return v;
}

/** Services as OPA accepts them: an object keyed by name, or a list of objects with `name`. */
export function parseServices(raw: unknown, keys?: unknown, warn?: (msg: string) => void): Map<string, ServiceConfig> {
  const out = new Map<string, ServiceConfig>();
  if (raw === undefined || raw === null) return out;
  const entries: [string, unknown][] = Array.isArray(raw) ? raw.map((s, i) => [str(isObj(s) ? s.name : undefined, `services[${i}].name`), s]) : isObj(raw) ? Object.entries(raw) : [];
  if (!Array.isArray(raw) && !isObj(raw)) throw new BundleConfigError("services: want an object or a list");
  for (const [name, s] of entries) {
    if (!isObj(s)) throw new BundleConfigError(`services.${name}: want an object`);
    if (name === "") throw new BundleConfigError("services: a service has no name");
    for (const k of Object.keys(s)) {
      if (!["name", "url", "headers", "credentials", "response_header_timeout_seconds", "type", "tls", "allow_insecure_tls"].includes(k)) {
        throw new BundleConfigError(`services.${name}.${k} is not supported by portcullis run (supported: url, type, headers, credentials, tls, allow_insecure_tls, response_header_timeout_seconds)`);
      }
    }
    const type = str(s.type, `services.${name}.type`).toLowerCase();
    if (type !== "" && type !== "oci") throw new BundleConfigError(`services.${name}.type: want "oci" or nothing, got ${JSON.stringify(s.type)}`);
    if (type === "oci") {
      // OPA's OCI downloader authenticates through its auth plugins; Portcullis pulls anonymously
      for (const k of ["headers", "credentials", "tls", "allow_insecure_tls"]) {
        if (s[k] !== undefined && s[k] !== null) throw new BundleConfigError(`services.${name}.${k} is not supported by portcullis run for a service of type oci (it pulls anonymously)`);
      }
    }
    const url = str(s.url, `services.${name}.url`).replace(/\/+$/, "");
    if (!/^https?:\/\//.test(url)) throw new BundleConfigError(`services.${name}.url: want an http:// or https:// URL, got ${JSON.stringify(s.url)}`);
    const headers: Record<string, string> = {};
    if (s.headers !== undefined) {
      if (!isObj(s.headers)) throw new BundleConfigError(`services.${name}.headers: want an object`);
      for (const [k, v] of Object.entries(s.headers)) headers[k] = String(v);
    }
    let transport: ServiceTransport;
    try {
      transport = serviceTransport(name, s, keys, USER_AGENT, warn);
    } catch (e) {
      if (e instanceof CredentialsError) throw new BundleConfigError(e.message);
      throw e;
    }
    out.set(name, {
      name,
      url,
      headers,
      transport,
      responseHeaderTimeoutMs: (num(s.response_header_timeout_seconds, `services.${name}.response_header_timeout_seconds`, 10) ?? 10) * 1000,
      ...(type === "oci" ? { type: "oci" as const } : {}),
    });
  }
  return out;
}

/** OPA's `keys` section: id → {algorithm (default RS256), key, scope}. */
function parseKeys(raw: unknown): Record<string, KeyConfig> {
  const out: Record<string, KeyConfig> = {};
  if (raw === undefined || raw === null) return out;
  if (!isObj(raw)) throw new BundleConfigError("keys: want an object");
  for (const [id, k] of Object.entries(raw)) {
    if (!isObj(k)) throw new BundleConfigError(`keys.${id}: want an object`);
    const algorithm = str(k.algorithm, `keys.${id}.algorithm`, "RS256");
    if (!isSigningAlgorithm(algorithm)) throw new BundleConfigError(`keys.${id}.algorithm: unsupported algorithm ${JSON.stringify(algorithm)}`);
    if (k.key === undefined) continue; // a signing-only key (private_key): nothing to verify with
    out[id] = { key: str(k.key, `keys.${id}.key`), algorithm, scope: str(k.scope, `keys.${id}.scope`) };
  }
  return out;
}

/** The bundle sections of an OPA configuration; undefined when it configures no bundles. */
export function parseBundlesConfig(raw: Obj, cwd = process.cwd(), services = parseServices(raw.services, raw.keys)): BundlesConfig | undefined {
  if (raw.bundle !== undefined) throw new BundleConfigError('the legacy "bundle" key is not supported by portcullis run: use "bundles"');
  const keys = parseKeys(raw.keys);
  const persistenceDirectory = str(raw.persistence_directory, "persistence_directory", join(cwd, ".opa"));
  if (raw.bundles === undefined || raw.bundles === null) return undefined;
  if (!isObj(raw.bundles)) throw new BundleConfigError("bundles: want an object");
  const bundles: BundleSourceConfig[] = [];
  for (const [name, b] of Object.entries(raw.bundles)) {
    if (!isObj(b)) throw new BundleConfigError(`bundles.${name}: want an object`);
    let serviceName = str(b.service, `bundles.${name}.service`);
    if (serviceName === "" && services.size === 1) serviceName = [...services.keys()][0];
    const service = services.get(serviceName);
    if (!service) throw new BundleConfigError(`invalid configuration for bundle ${JSON.stringify(name)}: service name ${JSON.stringify(serviceName)} not found`);
    if (b.trigger !== undefined && b.trigger !== "periodic") throw new BundleConfigError(`bundles.${name}.trigger: only "periodic" is supported by portcullis run`);
    const polling = isObj(b.polling) ? b.polling : {};
    const minS = num(polling.min_delay_seconds, `bundles.${name}.polling.min_delay_seconds`, 60)!;
    const maxS = num(polling.max_delay_seconds, `bundles.${name}.polling.max_delay_seconds`, 120)!;
    if (minS > maxS) throw new BundleConfigError(`invalid configuration for bundle ${JSON.stringify(name)}: minimum polling interval is greater than maximum polling interval`);
    const lp = num(polling.long_polling_timeout_seconds, `bundles.${name}.polling.long_polling_timeout_seconds`, undefined, 1);
    let verification: VerificationConfig | undefined;
    if (b.signing !== undefined && b.signing !== null) {
      if (!isObj(b.signing)) throw new BundleConfigError(`bundles.${name}.signing: want an object`);
      const keyId = str(b.signing.keyid, `bundles.${name}.signing.keyid`);
      if (keyId !== "" && !Object.hasOwn(keys, keyId)) throw new BundleConfigError(`invalid configuration for bundle ${JSON.stringify(name)}: key id ${keyId} not found`);
      const exclude = b.signing.exclude_files ?? [];
      if (!Array.isArray(exclude) || exclude.some((e) => typeof e !== "string")) throw new BundleConfigError(`bundles.${name}.signing.exclude_files: want a list of strings`);
      verification = { keys, keyId, scope: str(b.signing.scope, `bundles.${name}.signing.scope`), exclude: exclude as string[] };
    }
    const resource = str(b.resource, `bundles.${name}.resource`, `bundles/${name}`);
    let ociRef: Reference | undefined;
    if (service.type === "oci") ociRef = ociReference(name, resource, service.url);
    bundles.push({
      name,
      service,
      resource,
      ociRef,
      persist: b.persist === true,
      minDelayMs: minS * 1000,
      maxDelayMs: maxS * 1000,
      longPollingTimeoutSeconds: lp,
      verification,
      sizeLimitBytes: num(b.size_limit_bytes, `bundles.${name}.size_limit_bytes`, 1024 * 1024 * 1024, 1)!,
    });
  }
  return { bundles, persistenceDirectory };
}

/**
 * The image a bundle of an OCI service pulls, as OPA's OCI downloader does: the repository and
 * tag (or digest) of `resource`, from the host of the service's URL.
 */
function ociReference(name: string, resource: string, serviceUrl: string): Reference {
  let ref: Reference;
  try {
    ref = parseReference(resource);
  } catch (e) {
    if (e instanceof ReferenceError) throw new BundleConfigError(`bundles.${name}.resource: ${e.message}`);
    throw e;
  }
  if (ref.tag === undefined && ref.digest === undefined) throw new BundleConfigError(`bundles.${name}.resource: ${JSON.stringify(resource)} names no tag or digest`);
  return { ...ref, registry: new URL(serviceUrl).host };
}

/** The configuration as GET /v1/config shows it: service credentials and key material removed (as OPA does). */
export function redactConfig(raw: Obj): Obj {
  const out: Obj = { ...raw };
  const strip = (x: unknown, names: string[]) => {
    if (!isObj(x)) return x;
    const o: Obj = { ...x };
    for (const n of names) delete o[n];
    return o;
  };
  if (Array.isArray(raw.services)) out.services = raw.services.map((s) => strip(s, ["credentials"]));
  else if (isObj(raw.services)) out.services = Object.fromEntries(Object.entries(raw.services).map(([k, s]) => [k, strip(s, ["credentials"])]));
  if (isObj(raw.keys)) out.keys = Object.fromEntries(Object.entries(raw.keys).map(([k, v]) => [k, strip(v, ["key", "private_key"])]));
  return out;
}
