# Container image references, normalized the way Docker resolves them:
#   "nginx"                      -> docker.io/library/nginx, no tag
#   "ghcr.io/acme/api:1.2@sha256:..." -> registry ghcr.io, repository acme/api, tag 1.2, digest sha256:...
package portcullis_lib.images

# Docker official images and a few vendor registries. Organizations should list their own
# registry in data.portcullis.allowed_registries (or the per-domain keys; see library/README.md).
default_allowed_registries := [
	"docker.io/library",
	"gcr.io/distroless",
	"cgr.dev/chainguard",
	"registry.k8s.io",
	"mcr.microsoft.com",
	"registry.access.redhat.com",
	"public.ecr.aws",
]

parse(ref) := {
	"ref": ref,
	"registry": registry,
	"repository": repository,
	"name": concat("/", [registry, repository]),
	"tag": _tag(last),
	"digest": _digest(at),
} if {
	at := split(ref, "@")
	segs := split(at[0], "/")
	last := segs[count(segs) - 1]
	path := array.concat(array.slice(segs, 0, count(segs) - 1), [_untagged(last)])
	registry := _registry(segs)
	repository := _repository(registry, path, segs)
}

_digest(at) := at[1] if count(at) > 1

else := ""

_tag(last) := substring(last, i + 1, -1) if {
	i := indexof(last, ":")
	i >= 0
} else := ""

_untagged(last) := substring(last, 0, i) if {
	i := indexof(last, ":")
	i >= 0
} else := last

_explicit_registry(segs) if {
	count(segs) > 1
	_hostlike(segs[0])
}

_hostlike(h) if contains(h, ".")

_hostlike(h) if contains(h, ":")

_hostlike("localhost")

_docker_hub_aliases := {"docker.io", "index.docker.io", "registry-1.docker.io"}

_registry(segs) := "docker.io" if {
	_explicit_registry(segs)
	lower(segs[0]) in _docker_hub_aliases
} else := lower(segs[0]) if {
	_explicit_registry(segs)
} else := "docker.io"

_repository(registry, path, segs) := concat("/", rest) if {
	_explicit_registry(segs)
	rest := _official(registry, array.slice(path, 1, count(path)))
} else := concat("/", _official(registry, path))

# Single-name Docker Hub images are official images under library/.
_official(registry, p) := array.concat(["library"], p) if {
	registry == "docker.io"
	count(p) == 1
} else := p

# allowed(image, entries): entries are registry hosts or registry/path prefixes in normalized
# form ("registry.example.com", "ghcr.io/acme", "docker.io/library"); "*" allows every image.
allowed(_, entries) if "*" in entries

allowed(image, entries) if {
	some e in entries
	_matches(image.name, trim_suffix(lower(e), "/"))
}

_matches(name, entry) if name == entry

_matches(name, entry) if startswith(name, concat("", [entry, "/"]))

# untagged_or_latest(image): no tag (or tag "latest") and no digest.
untagged_or_latest(image) if {
	image.digest == ""
	image.tag in {"", "latest"}
}

pinned(image) if startswith(image.digest, "sha256:")
