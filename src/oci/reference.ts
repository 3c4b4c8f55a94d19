// Image references as docker, oras and conftest read them: `[registry/]repository[:tag][@digest]`.
// A first path component with a dot or a colon, or `localhost`, is a registry; without one the
// registry is Docker Hub (`docker.io`, reached at registry-1.docker.io) and a one-part name is in
// `library/`. An `oci://` prefix (conftest's) is dropped.

export class ReferenceError extends Error {}

export interface Reference {
  /** Registry host[:port] as written (`docker.io` for Docker Hub). */
  registry: string;
  /** Repository path, lower case, `/`-separated. */
  repository: string;
  tag?: string;
  /** `algorithm:hex`, when the reference names a digest. */
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST = /^(?:\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(?::[0-9]{1,5})?$/;
const MAX_REFERENCE = 1024;

export const DOCKER_HUB = "docker.io";

/** Parses a reference; `defaultTag` (e.g. "latest") fills in a missing tag when there is no digest either. */
export function parseReference(text: string, defaultTag?: string): Reference {
  let s = text.trim();
  if (s.startsWith("oci://")) s = s.slice("oci://".length);
  if (s === "") throw new ReferenceError("invalid reference: empty");
  if (s.length > MAX_REFERENCE) throw new ReferenceError(`invalid reference: longer than ${MAX_REFERENCE} characters`);
  let digest: string | undefined;
  const at = s.indexOf("@");
  if (at >= 0) {
    digest = s.slice(at + 1);
    s = s.slice(0, at);
    if (!DIGEST.test(digest)) throw new ReferenceError(`invalid reference ${JSON.stringify(text)}: invalid digest ${JSON.stringify(digest)}`);
    if (digest.startsWith("sha256:") && !SHA256_DIGEST.test(digest)) {
      throw new ReferenceError(`invalid reference ${JSON.stringify(text)}: a sha256 digest has 64 lower-case hex digits`);
    }
  }
  let tag: string | undefined;
  const slash = s.lastIndexOf("/");
  const colon = s.lastIndexOf(":");
  if (colon > slash) {
    tag = s.slice(colon + 1);
    s = s.slice(0, colon);
    if (!TAG.test(tag)) throw new ReferenceError(`invalid reference ${JSON.stringify(text)}: invalid tag ${JSON.stringify(tag)}`);
  }
  const parts = s.split("/");
  let registry = DOCKER_HUB;
  if (parts.length > 1 && (parts[0].includes(".") || parts[0].includes(":") || parts[0] === "localhost" || parts[0].startsWith("["))) {
    registry = parts.shift()!;
    if (!HOST.test(registry)) throw new ReferenceError(`invalid reference ${JSON.stringify(text)}: invalid registry ${JSON.stringify(registry)}`);
  }
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift("library");
  for (const p of parts) {
    if (!COMPONENT.test(p)) {
      const why = p !== p.toLowerCase() ? "repository name must be lowercase" : `invalid repository component ${JSON.stringify(p)}`;
      throw new ReferenceError(`invalid reference ${JSON.stringify(text)}: ${why}`);
    }
  }
  const repository = parts.join("/");
  if (repository.length > 255) throw new ReferenceError(`invalid reference ${JSON.stringify(text)}: repository name longer than 255 characters`);
  if (tag === undefined && digest === undefined && defaultTag !== undefined) tag = defaultTag;
  return { registry, repository, tag, digest };
}

/** `registry/repository[:tag][@digest]`. */
export function formatReference(r: Reference): string {
  return `${r.registry}/${r.repository}${r.tag !== undefined ? `:${r.tag}` : ""}${r.digest !== undefined ? `@${r.digest}` : ""}`;
}

/** The tag or digest to ask the registry for: the digest when there is one (it pins the content). */
export function referenceTarget(r: Reference): string {
  const t = r.digest ?? r.tag;
  if (t === undefined) throw new ReferenceError(`reference ${formatReference(r)} names no tag or digest`);
  return t;
}

/** The host that serves a registry's API (Docker Hub's is registry-1.docker.io). */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? "registry-1.docker.io" : registry;
}

/** The host name of `host[:port]` (brackets of an IPv6 literal removed). */
export function hostName(registry: string): string {
  if (registry.startsWith("[")) return registry.slice(1, registry.indexOf("]"));
  const c = registry.lastIndexOf(":");
  return c >= 0 ? registry.slice(0, c) : registry;
}

/** localhost, 127.0.0.0/8 and ::1: registries there are reached over plain HTTP unless told otherwise. */
export function isLoopback(registry: string): boolean {
  const h = hostName(registry).toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export function isDigest(s: string): boolean {
  return DIGEST.test(s);
}
