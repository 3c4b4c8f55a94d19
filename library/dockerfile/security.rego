# Dockerfile security: DF-004 (non-root USER), DF-006/DF-007 (secrets in ENV/ARG),
# DF-009 (ADD of remote URLs), DF-011 (sudo), DF-012 (curl | sh), DF-015 (EXPOSE 22),
# DF-019 (chmod 777).
package dockerfile.security

import data.portcullis_lib.config
import data.portcullis_lib.dockerfile as df

deny contains r if {
	some r in config.report(findings, "deny")
}

warn contains r if {
	some r in config.report(findings, "warn")
}

# DF-004: the user the final image runs as (its last USER, inherited through FROM <stage>).
root_user(u) if split(u, ":")[0] in {"root", "0"}

findings contains df.finding(
	"DF-004", p,
	"the final stage sets no USER and runs as root; add USER with a non-root user (e.g. USER 10001:10001) after the last FROM",
) if {
	some p in df.paths
	not df.last_final(p, "user")
}

findings contains df.finding("DF-004", p, sprintf(
	"the final stage runs as '%s'; switch to a non-root user (e.g. USER 10001:10001) as the last USER instruction",
	[u],
)) if {
	some p in df.paths
	u := df.last_final(p, "user").value[0]
	root_user(u)
}

# DF-006: ENV NAME=value pairs are stored as triples [name, value, separator].
findings contains df.finding("DF-006", ins.path, sprintf(
	"ENV %s looks like a secret and would be stored in the image; provide it at run time (orchestrator secret or environment) instead",
	[name],
)) if {
	some ins in df.instructions
	ins.cmd == "env"
	some i, name in ins.value
	i % 3 == 0
	config.secret_name(name)
}

# DF-007: ARG values are recorded in the image history.
findings contains df.finding("DF-007", ins.path, sprintf(
	"ARG %s looks like a secret and would be recorded in the image history; use a build secret (RUN --mount=type=secret,id=%s) instead",
	[name, lower(name)],
)) if {
	some ins in df.instructions
	ins.cmd == "arg"
	some v in ins.value
	name := split(v, "=")[0]
	config.secret_name(name)
}

# DF-009: ADD <url> without --checksum.
remote(src) if regex.match(`(?i)^(https?|git|ssh)://`, src)

remote(src) if startswith(src, "git@")

add_sources(ins) := array.slice(ins.value, 0, count(ins.value) - 1)

findings contains df.finding("DF-009", ins.path, sprintf(
	"ADD downloads '%s' without verifying it; add --checksum=sha256:<digest>, or download it in a RUN step that checks a checksum or signature",
	[src],
)) if {
	some ins in df.instructions
	ins.cmd == "add"
	not _has_checksum(ins)
	some src in add_sources(ins)
	remote(src)
}

_has_checksum(ins) if {
	some f in ins.flags
	startswith(f, "--checksum=")
}

# DF-011: sudo as a command (installing the sudo package is not reported).
findings contains df.finding("DF-011", ins.path, sprintf(
	"RUN uses sudo ('%s'); run the step as root before the final USER instead — sudo in an image is an escalation path",
	[s],
)) if {
	some ins in df.runs
	some s in df.segments(ins)
	regex.match(`^(\w+=\S*\s+)*(\S+/)?sudo(\s|$)`, s)
}

# DF-012
pipe_to_shell := `(curl|wget)\b[^|;&]*\|\s*(sudo(\s+-\S+)*\s+)?(\S*/)?(ba|z|da|k)?sh\b`

shell_of_download := `\b(ba|z|da|k)?sh\s+-c\s+["']?\$\((curl|wget)\b`

findings contains df.finding("DF-012", ins.path, sprintf(
	"RUN pipes a downloaded script into a shell ('%s'); download the file, verify its checksum or signature, then run it",
	[df.command(ins)],
)) if {
	some ins in df.runs
	some pattern in [pipe_to_shell, shell_of_download]
	regex.match(pattern, df.command(ins))
}

# DF-015
findings contains df.finding(
	"DF-015", ins.path,
	"EXPOSE 22 publishes an SSH port; do not run an SSH server in a container (use docker exec or kubectl exec to get a shell)",
) if {
	some ins in df.instructions
	ins.cmd == "expose"
	some port in ins.value
	split(port, "/")[0] == "22"
}

# DF-019
findings contains df.finding("DF-019", ins.path, sprintf(
	"RUN makes files world-writable ('%s'); grant only what is needed (e.g. chown to the runtime user, chmod 755/644)",
	[s],
)) if {
	some ins in df.runs
	some s in df.segments(ins)
	regex.match(`\bchmod\s+(-\S+\s+)*(0?777|(a|ugo)\+rwx)(\s|$)`, s)
}
