# Dockerfile security: DF-004 (non-root USER), DF-006/DF-007 (secrets in ENV/ARG),
# DF-009 (ADD of remote URLs), DF-011 (sudo), DF-012 (curl | sh), DF-015 (EXPOSE 22),
# DF-019 (chmod 777).
package dockerfile.security

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

# DF-004: the user the final image runs as (its last USER, inherited through FROM <stage>).
root_user(u) if split(u, ":")[0] in {"root", "0"}

_findings contains df.finding(
	"DF-004", p,
	"the final stage sets no USER and runs as root; add USER with a non-root user (e.g. USER 10001:10001) after the last FROM",
) if {
	some p in df.paths
	not df.last_final(p, "user")
}

_findings contains df.finding("DF-004", p, sprintf(
	"the final stage runs as '%s'; switch to a non-root user (e.g. USER 10001:10001) as the last USER instruction",
	[u],
)) if {
	some p in df.paths
	u := df.last_final(p, "user").value[0]
	root_user(u)
}

# DF-006: ENV NAME=value pairs are stored as triples [name, value, separator].
_findings contains df.finding("DF-006", ins.path, sprintf(
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
_findings contains df.finding("DF-007", ins.path, sprintf(
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

_findings contains df.finding("DF-009", ins.path, sprintf(
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
_findings contains df.finding("DF-011", ins.path, sprintf(
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

_findings contains df.finding("DF-012", ins.path, sprintf(
	"RUN pipes a downloaded script into a shell ('%s'); download the file, verify its checksum or signature, then run it",
	[df.command(ins)],
)) if {
	some ins in df.runs
	some pattern in [pipe_to_shell, shell_of_download]
	regex.match(pattern, df.command(ins))
}

# DF-015
_findings contains df.finding(
	"DF-015", ins.path,
	"EXPOSE 22 publishes an SSH port; do not run an SSH server in a container (use docker exec or kubectl exec to get a shell)",
) if {
	some ins in df.instructions
	ins.cmd == "expose"
	some port in ins.value
	split(port, "/")[0] == "22"
}

# DF-019
_findings contains df.finding("DF-019", ins.path, sprintf(
	"RUN makes files world-writable ('%s'); grant only what is needed (e.g. chown to the runtime user, chmod 755/644)",
	[s],
)) if {
	some ins in df.runs
	some s in df.segments(ins)
	regex.match(`\bchmod\s+(-\S+\s+)*(0?777|(a|ugo)\+rwx)(\s|$)`, s)
}

# DF-040: useradd with a long UID and without -l writes a huge sparse /var/log/lastlog.
_findings contains df.finding("DF-040", ins.path, sprintf(
	"'%s' creates a user with a long UID without -l, which grows /var/log/lastlog and /var/log/faillog to gigabytes; add -l (--no-log-init)",
	[s],
)) if {
	some ins in df.runs
	some s in df.segments(ins)
	regex.match(`^(\w+=\S*\s+)*(\S+/)?useradd\s`, s)
	not regex.match(`(^|\s)(-[a-zA-Z]*l[a-zA-Z]*|--no-log-init)(\s|$)`, s)
	regex.match(`(^|\s)(-[a-zA-Z]*u\s*|--uid[=\s])[0-9]{6,}(\s|$)`, s)
}

# DF-041: TLS certificate or signature verification switched off in a build step or ENV.
insecure_patterns := [
	`\bcurl\s+(.*\s)?(-[a-zA-Z]*k[a-zA-Z]*|--insecure)(\s|$)`,
	`\bwget\s+(.*\s)?--no-check-certificate(\s|$)`,
	`\bpip[0-9.]*\s+(.*\s)?--trusted-host(\s|=)`,
	`\bnpm\s+(.*\s)?(config\s+set\s+strict-ssl\s+false|--strict-ssl[=\s]false)`,
	`\byarn\s+config\s+set\s+strict-ssl\s+false`,
	`(?i)\bgit\s+config\s+(.*\s)?http\.sslverify\s+false`,
	`\bapk\s+(.*\s)?--allow-untrusted(\s|$)`,
	`\bapt-get\s+(.*\s)?(--allow-unauthenticated|--force-yes|AllowUnauthenticated=(true|1))`,
	`\b(yum|dnf|tdnf|microdnf)\s+(.*\s)?--nogpgcheck(\s|$)`,
	`\brpm\s+(.*\s)?--nosignature(\s|$)`,
	`\b(NODE_TLS_REJECT_UNAUTHORIZED=0|GIT_SSL_NO_VERIFY=(1|true)|PYTHONHTTPSVERIFY=0)`,
]

_findings contains df.finding("DF-041", ins.path, sprintf(
	"RUN switches off TLS or signature verification ('%s'); fix the trust store instead (install CA certificates, import the signing key)",
	[s],
)) if {
	some ins in df.runs
	some s in df.segments(ins)
	some pattern in insecure_patterns
	regex.match(pattern, s)
}

insecure_env := {"NODE_TLS_REJECT_UNAUTHORIZED": {"0"}, "GIT_SSL_NO_VERIFY": {"1", "true"}, "PYTHONHTTPSVERIFY": {"0"}}

_findings contains df.finding("DF-041", ins.path, sprintf(
	"ENV %s=%s switches off TLS verification for every process in the image; remove it and fix the trust store",
	[name, value],
)) if {
	some ins in df.instructions
	ins.cmd == "env"
	some k, name in ins.value
	k % 3 == 0
	value := ins.value[k + 1]
	lower(trim(value, `"'`)) in insecure_env[name]
}

# DF-042: credential-shaped values (cloud keys, tokens, private keys) in ENV or ARG defaults.
credential_value_patterns := [
	`^(AKIA|ASIA)[0-9A-Z]{16}$`,
	`^gh[pousr]_[A-Za-z0-9]{36,}$`,
	`^github_pat_[A-Za-z0-9_]{22,}$`,
	`^glpat-[A-Za-z0-9_-]{20,}$`,
	`^xox[abpors]-[A-Za-z0-9-]{10,}$`,
	`^sk_live_[A-Za-z0-9]{20,}$`,
	`^AIza[0-9A-Za-z_-]{35}$`,
	`^npm_[A-Za-z0-9]{36}$`,
	`-----BEGIN ([A-Z]+ )?PRIVATE KEY`,
]

_env_values(ins) := [[name, ins.value[k + 1]] |
	ins.cmd == "env"
	some k, name in ins.value
	k % 3 == 0
]

_arg_values(ins) := [[name, value] |
	ins.cmd == "arg"
	some v in ins.value
	contains(v, "=")
	name := split(v, "=")[0]
	value := substring(v, count(name) + 1, -1)
]

_findings contains df.finding("DF-042", ins.path, sprintf(
	"%s %s holds a value shaped like a credential; remove it, rotate the credential, and pass it at run time or as a build secret",
	[upper(ins.cmd), nv[0]],
)) if {
	some ins in df.instructions
	ins.cmd in {"env", "arg"}
	some nv in array.concat(_env_values(ins), _arg_values(ins))
	some pattern in credential_value_patterns
	regex.match(pattern, trim(nv[1], `"'`))
}

# DF-043: chpasswd sets a password that stays in the image layers.
_findings contains df.finding("DF-043", ins.path, sprintf(
	"RUN sets a password with chpasswd ('%s'); the password stays in the image history — use no password login and a non-root USER",
	[df.command(ins)],
)) if {
	some ins in df.runs
	some s in df.segments(ins)
	regex.match(`(^|\s|/)chpasswd(\s|$)`, s)
}

# DF-044: RUN chown of files that a COPY/ADD of the same stage wrote doubles their size.
_findings contains df.finding("DF-044", ins.path, sprintf(
	"RUN '%s' changes the owner of files COPY/ADD just wrote, which stores them twice; use COPY --chown=<user>:<group> instead",
	[s],
)) if {
	some ins in df.runs
	some s in df.segments(ins)
	regex.match(`^(\S+/)?chown\s`, s)
	args := [w | some n, w in df.words(s); n > 0; not startswith(w, "-")]
	some target in array.slice(args, 1, count(args))
	some c in df.instructions
	c.path == ins.path
	c.stage == ins.stage
	c.cmd in {"copy", "add"}
	c.i < ins.i
	count(df.flag_values(c, "chown")) == 0
	dest := trim_right(c.value[count(c.value) - 1], "/")
	dest != ""
	_same_or_below(trim_right(target, "/"), dest)
}

_same_or_below(target, dest) if target == dest

_same_or_below(target, dest) if startswith(target, concat("", [dest, "/"]))
