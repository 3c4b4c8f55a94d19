# Dockerfile instruction hygiene: DF-008 (HEALTHCHECK), DF-010 (COPY rather than ADD),
# DF-016 (MAINTAINER), DF-017 (exec-form CMD/ENTRYPOINT), DF-018 (absolute WORKDIR).
package dockerfile.instructions

import data.portcullis_lib.config
import data.portcullis_lib.dockerfile as df

deny contains r if {
	some r in config.report(findings, "deny")
}

warn contains r if {
	some r in config.report(findings, "warn")
}

# DF-008
findings contains df.finding(
	"DF-008", p,
	"the final image has no HEALTHCHECK; add one, e.g. HEALTHCHECK CMD wget -qO- http://localhost:8080/healthz || exit 1",
) if {
	some p in df.paths
	not df.last_final(p, "healthcheck")
}

findings contains df.finding(
	"DF-008", p,
	"the final image disables its health check (HEALTHCHECK NONE); define a HEALTHCHECK CMD that probes the service",
) if {
	some p in df.paths
	upper(df.last_final(p, "healthcheck").value[0]) == "NONE"
}

# DF-010: ADD of a local file that is not a tar archive (ADD extracts archives; COPY does not).
archive(src) if regex.match(`(?i)\.(tar|tar\.(gz|bz2|xz|zst)|tgz|tbz2?|txz)$`, src)

remote(src) if regex.match(`(?i)^(https?|git|ssh)://`, src)

remote(src) if startswith(src, "git@")

findings contains df.finding("DF-010", ins.path, sprintf(
	"ADD copies the local path '%s'; use COPY (ADD is for tar archives to extract or verified remote files)",
	[src],
)) if {
	some ins in df.instructions
	ins.cmd == "add"
	some src in array.slice(ins.value, 0, count(ins.value) - 1)
	not remote(src)
	not archive(src)
}

# DF-016
findings contains df.finding("DF-016", ins.path, sprintf(
	"MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors=\"%s\"",
	[concat(" ", ins.value)],
)) if {
	some ins in df.instructions
	ins.cmd == "maintainer"
}

# DF-017: only the final image's CMD/ENTRYPOINT matter.
findings contains df.finding("DF-017", ins.path, sprintf(
	"%s uses the shell form ('%s'); use the exec form, e.g. %s [\"executable\", \"arg\"], so the process gets signals as PID 1",
	[upper(ins.cmd), concat(" ", ins.value), upper(ins.cmd)],
)) if {
	some p in df.paths
	some ins in df.final_instructions(p)
	ins.cmd in {"cmd", "entrypoint"}
	not ins.json
}

# DF-018
findings contains df.finding("DF-018", ins.path, sprintf(
	"WORKDIR '%s' is relative and depends on the previous WORKDIR; use an absolute path (e.g. WORKDIR /app)",
	[dir],
)) if {
	some ins in df.instructions
	ins.cmd == "workdir"
	dir := ins.value[0]
	not startswith(dir, "/")
	not startswith(dir, "$")
	not regex.match(`^[A-Za-z]:[\\/]`, dir)
}
