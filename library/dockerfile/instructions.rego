# Dockerfile instruction hygiene: DF-008 (HEALTHCHECK), DF-010 (COPY rather than ADD),
# DF-016 (MAINTAINER), DF-017 (exec-form CMD/ENTRYPOINT), DF-018 (absolute WORKDIR).
package dockerfile.instructions

import data.portcullis_lib.config
import data.portcullis_lib.dockerfile as df

# The package's findings (the `_findings` rules below), evaluated only when the input holds
# a Dockerfile: other documents do not enter those rules at all.
findings := _findings if df.present

default findings := set()

deny contains r if {
	some r in config.report(findings, "deny")
}

warn contains r if {
	some r in config.report(findings, "warn")
}

# DF-008
_findings contains df.finding(
	"DF-008", p,
	"the final image has no HEALTHCHECK; add one, e.g. HEALTHCHECK CMD wget -qO- http://localhost:8080/healthz || exit 1",
) if {
	some p in df.paths
	not df.last_final(p, "healthcheck")
}

_findings contains df.finding(
	"DF-008", p,
	"the final image disables its health check (HEALTHCHECK NONE); define a HEALTHCHECK CMD that probes the service",
) if {
	some p in df.paths
	upper(df.last_final(p, "healthcheck").value[0]) == "NONE"
}

# DF-010: ADD of a local file that is not a tar archive (ADD extracts archives; COPY does not).
# ADD also extracts compressed tar files named only .gz/.bz2/.xz; quotes are not part of the name.
archive(src) if regex.match(`(?i)\.(tar|tar\.(gz|bz2|xz|zst)|tgz|tbz2?|txz|gz|bz2|xz)$`, trim(src, `"'`))

remote(src) if regex.match(`(?i)^(https?|git|ssh)://`, trim(src, `"'`))

remote(src) if startswith(src, "git@")

_findings contains df.finding("DF-010", ins.path, sprintf(
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
_findings contains df.finding("DF-016", ins.path, sprintf(
	"MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors=\"%s\"",
	[concat(" ", ins.value)],
)) if {
	some ins in df.instructions
	ins.cmd == "maintainer"
}

# DF-017: only the final image's CMD/ENTRYPOINT matter.
_findings contains df.finding("DF-017", ins.path, sprintf(
	"%s uses the shell form ('%s'); use the exec form, e.g. %s [\"executable\", \"arg\"], so the process gets signals as PID 1",
	[upper(ins.cmd), concat(" ", ins.value), upper(ins.cmd)],
)) if {
	some p in df.paths
	some ins in df.final_instructions(p)
	ins.cmd in {"cmd", "entrypoint"}
	not ins.json
}

# DF-018
_findings contains df.finding("DF-018", ins.path, sprintf(
	"WORKDIR '%s' is relative and depends on the previous WORKDIR; use an absolute path (e.g. WORKDIR /app)",
	[dir],
)) if {
	some ins in df.instructions
	ins.cmd == "workdir"
	dir := trim(ins.value[0], `"'`)
	not startswith(dir, "/")
	not startswith(dir, "$")
	not regex.match(`^[A-Za-z]:[\\/]`, dir)
}

# DF-021, DF-022, DF-023: an instruction that only takes effect once per stage, given twice
# (only the last HEALTHCHECK / CMD / ENTRYPOINT of a stage counts).
repeated_kinds := {"healthcheck": "DF-021", "cmd": "DF-022", "entrypoint": "DF-023"}

_findings contains df.finding(id, ins.path, sprintf(
	"stage %d has more than one %s; only the last one takes effect, keep a single %s",
	[ins.stage, upper(ins.cmd), upper(ins.cmd)],
)) if {
	some kind, id in repeated_kinds
	some ins in df.instructions
	ins.cmd == kind
	earlier := [x | some x in df.instructions; x.path == ins.path; x.stage == ins.stage; x.cmd == kind; x.i < ins.i]
	count(earlier) > 0
}

# DF-024: COPY --from names a stage defined earlier, a valid stage index or an image.
_findings contains df.finding("DF-024", ins.path, sprintf(
	"COPY --from=%s does not name an earlier stage; define FROM <image> AS %s before it, or use an image reference (name:tag)",
	[src, src],
)) if {
	some ins in df.instructions
	ins.cmd == "copy"
	some src in df.flag_values(ins, "from")
	not contains(src, "$")
	not _external_image(src)
	not _earlier_stage(ins, src)
}

_external_image(src) if contains(src, ":")

_external_image(src) if contains(src, "/")

_earlier_stage(ins, src) if lower(src) in df.aliases_before(ins.path, ins.i)

_earlier_stage(ins, src) if {
	regex.match(`^[0-9]+$`, src)
	to_number(src) < ins.stage
}

# DF-025: COPY --from the stage the instruction is in.
_findings contains df.finding("DF-025", ins.path, sprintf(
	"COPY --from=%s copies from the stage it is in; copy from an earlier stage or use a plain COPY",
	[src],
)) if {
	some ins in df.instructions
	ins.cmd == "copy"
	some src in df.flag_values(ins, "from")
	some s in df.stages
	s.path == ins.path
	s.stage == ins.stage
	s.alias != ""
	lower(src) == s.alias
}

# DF-026: FROM ... AS <alias> aliases are unique.
_findings contains df.finding("DF-026", s.path, sprintf(
	"stage alias '%s' is defined more than once; give every FROM ... AS a unique name",
	[s.alias],
)) if {
	some s in df.stages
	s.alias != ""
	some t in df.stages
	t.path == s.path
	t.alias == s.alias
	t.i < s.i
}

# DF-027: EXPOSE a valid port (0-65535, optionally a range and /tcp or /udp).
_findings contains df.finding("DF-027", ins.path, sprintf(
	"EXPOSE %s is not a valid port; use a number from 0 to 65535, optionally /tcp or /udp",
	[port],
)) if {
	some ins in df.instructions
	ins.cmd == "expose"
	some port in ins.value
	not contains(port, "$")
	not _valid_port_spec(port)
}

_valid_port_spec(spec) if {
	parts := split(spec, "/")
	count(parts) <= 2
	_protocol_ok(parts)
	range := split(parts[0], "-")
	count(range) <= 2
	every n in range {
		regex.match(`^[0-9]{1,5}$`, n)
		to_number(n) <= 65535
	}
}

_protocol_ok(parts) if count(parts) == 1

_protocol_ok(parts) if lower(parts[1]) in {"tcp", "udp", "sctp"}

# DF-028: COPY of several sources needs a directory destination ending in /.
_findings contains df.finding("DF-028", ins.path, sprintf(
	"%s copies %d sources into '%s'; a destination for several sources must be a directory ending in /",
	[upper(ins.cmd), count(ins.value) - 1, dest],
)) if {
	some ins in df.instructions
	ins.cmd in {"copy", "add"}
	count(ins.value) > 2
	dest := trim(ins.value[count(ins.value) - 1], `"'`)
	not endswith(dest, "/")
	not contains(dest, "$")
}

# DF-029: cd in RUN instead of WORKDIR.
_findings contains df.finding("DF-029", ins.path, sprintf(
	"RUN changes directory with '%s'; use WORKDIR to set the directory of later instructions",
	[s],
)) if {
	some ins in df.runs
	some s in df.segments(ins)
	regex.match(`^\(?\s*cd(\s|$)`, s)
}

# DF-030: a piped RUN under /bin/sh without pipefail only fails when the last command fails.
_findings contains df.finding("DF-030", ins.path, sprintf(
	"RUN pipes commands ('%s') without pipefail, so a failing command before the pipe is ignored; add SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"] before it or start the command with set -o pipefail &&",
	[df.command(ins)],
)) if {
	some ins in df.runs
	not ins.json
	regex.match(`(^|[^|])\|([^|]|$)`, df.command(ins))
	not regex.match(`set\s+(-\w*\s+)*-\w*o\s+pipefail`, df.command(ins))
	not _shell_handles_pipes(ins)
}

_last_shell(ins) := sh if {
	shells := [x | some x in df.instructions; x.path == ins.path; x.stage == ins.stage; x.cmd == "shell"; x.i < ins.i]
	count(shells) > 0
	last := max([x.i | some x in shells])
	some sh in shells
	sh.i == last
}

_shell_handles_pipes(ins) if contains(concat(" ", _last_shell(ins).value), "pipefail")

# A SHELL that is not a POSIX shell (powershell, cmd) has other pipe semantics.
_shell_handles_pipes(ins) if {
	exe := _last_shell(ins).value[0]
	not regex.match(`(^|/)(ba|da|z|k|a)?sh$`, exe)
}

# DF-031: both wget and curl in one image.
_findings contains df.finding(
	"DF-031", p,
	"the image uses both wget and curl; use one download tool",
) if {
	some p in df.paths
	finals := [ins | some ins in df.final_instructions(p); ins.cmd == "run"]
	_uses(finals, "wget")
	_uses(finals, "curl")
}

_uses(runs, tool) if {
	some ins in runs
	some s in df.segments(ins)
	regex.match(sprintf(`^(\w+=\S*\s+)*(\S+/)?%s(\s|$)`, [tool]), s)
}
