# Dockerfile package management: DF-005 (vendor updates installed), DF-013 (apt-get install
# --no-install-recommends), DF-014 (apk add --no-cache), DF-020 (apt-get update with install).
package dockerfile.packages

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

# Package manager commands, per command segment of a RUN (after optional VAR=value prefixes).
install_patterns := [
	`^(\w+=\S*\s+)*(\S+/)?apt(-get)?\s+(.*\s)?install(\s|$)`,
	`^(\w+=\S*\s+)*(\S+/)?apk\s+(.*\s)?add(\s|$)`,
	`^(\w+=\S*\s+)*(\S+/)?(yum|dnf|microdnf|tdnf)\s+(.*\s)?install(\s|$)`,
	`^(\w+=\S*\s+)*(\S+/)?zypper\s+(.*\s)?(install|in)(\s|$)`,
]

upgrade_patterns := [
	`^(\w+=\S*\s+)*(\S+/)?apt(-get)?\s+(.*\s)?(upgrade|dist-upgrade|full-upgrade)(\s|$)`,
	`^(\w+=\S*\s+)*(\S+/)?apk\s+(.*\s)?upgrade(\s|$)`,
	`^(\w+=\S*\s+)*(\S+/)?(yum|dnf|microdnf|tdnf)\s+(.*\s)?(upgrade|update)(\s|$)`,
	`^(\w+=\S*\s+)*(\S+/)?zypper\s+(.*\s)?(update|up|patch|dist-upgrade|dup)(\s|$)`,
]

_segment_matches(ins, patterns) if {
	some s in df.segments(ins)
	some pattern in patterns
	regex.match(pattern, s)
}

# DF-005: the final image installs OS packages but never upgrades the ones it started with.
_findings contains df.finding(
	"DF-005", p,
	"the final image installs OS packages but does not apply vendor updates; run the package manager's upgrade (apt-get upgrade -y, apk upgrade --no-cache, dnf upgrade -y) in the same RUN",
) if {
	some p in df.paths
	finals := {ins | some ins in df.final_instructions(p); ins.cmd == "run"}
	some installing in finals
	_segment_matches(installing, install_patterns)
	not _upgrades(finals)
}

_upgrades(runs) if {
	some ins in runs
	_segment_matches(ins, upgrade_patterns)
}

# DF-013
_findings contains df.finding("DF-013", ins.path, sprintf(
	"'%s' installs recommended packages too; add --no-install-recommends",
	[s],
)) if {
	some ins in df.runs
	some s in df.segments(ins)
	regex.match(install_patterns[0], s)
	not contains(s, "--no-install-recommends")
	not regex.match(`Install-Recommends=(false|0)`, s)
}

# DF-014
_findings contains df.finding("DF-014", ins.path, sprintf(
	"'%s' leaves the package index in the image; add --no-cache",
	[s],
)) if {
	some ins in df.runs
	some s in df.segments(ins)
	regex.match(install_patterns[1], s)
	not contains(s, "--no-cache")
	not _cache_mount(ins, "/var/cache/apk")
}

# DF-020
_findings contains df.finding("DF-020", ins.path, sprintf(
	"'%s' runs without an install in the same RUN, so a cached layer can serve a stale index; use RUN apt-get update && apt-get install -y ...",
	[s],
)) if {
	some ins in df.runs
	some s in df.segments(ins)
	regex.match(`^(\w+=\S*\s+)*(\S+/)?apt(-get)?\s+(.*\s)?update(\s|$)`, s)
	not _segment_matches(ins, [install_patterns[0], upgrade_patterns[0]])
}

# DF-032: package installs that can prompt run non-interactively.
noninteractive := [
	{"install": `^(\w+=\S*\s+)*(\S+/)?apt(-get)?\s+(.*\s)?install(\s|$)`, "yes": `(^|\s)(-[a-z]*y[a-z]*|--yes|--assume-yes|-qq|-q=2|--quiet=2|-q\s+-q|--quiet\s+--quiet)(\s|=|$)`, "fix": "-y"},
	{"install": `^(\w+=\S*\s+)*(\S+/)?(yum|dnf|microdnf)\s+(.*\s)?(install|groupinstall|localinstall)(\s|$)`, "yes": `(^|\s)(-[a-zA-Z]*y[a-zA-Z]*|--assumeyes)(\s|$)`, "fix": "-y"},
	{"install": `^(\w+=\S*\s+)*(\S+/)?zypper\s+(.*\s)?(install|in)(\s|$)`, "yes": `(^|\s)(-n|--non-interactive|-y|--no-confirm)(\s|$)`, "fix": "-n (zypper -n install)"},
]

_findings contains df.finding("DF-032", ins.path, sprintf(
	"'%s' can stop at a confirmation prompt; add %s",
	[s, m.fix],
)) if {
	some ins in df.runs
	some s in df.segments(ins)
	some m in noninteractive
	regex.match(m.install, s)
	not regex.match(m.yes, s)
}

# DF-033: the final image's apt-get installs remove the package lists in the same RUN.
_findings contains df.finding("DF-033", ins.path, sprintf(
	"RUN installs apt packages but keeps /var/lib/apt/lists in the layer ('%s'); end it with && rm -rf /var/lib/apt/lists/*",
	[df.command(ins)],
)) if {
	some p in df.paths
	some ins in df.final_instructions(p)
	ins.cmd == "run"
	some s in df.segments(ins)
	regex.match(install_patterns[0], s)
	not regex.match(`rm\s+(-\S+\s+)*/var/lib/apt/lists`, df.command(ins))
	not _cache_mount(ins, "/var/lib/apt")
}

_cache_mount(ins, dir) if {
	some m in df.flag_values(ins, "mount")
	regex.match(`type=(cache|tmpfs)`, m)
	contains(m, sprintf("target=%s", [dir]))
}

# DF-034: apt is for people; scripts use apt-get (its interface is stable).
_findings contains df.finding("DF-034", ins.path, sprintf(
	"'%s' uses apt, whose command-line interface is not stable for scripts; use apt-get",
	[s],
)) if {
	some ins in df.runs
	some s in df.segments(ins)
	regex.match(`^(\w+=\S*\s+)*(\S+/)?apt\s`, s)
}

# DF-035: yum/dnf/zypper commands that download packages clean the cache in the same RUN.
_rpm_verbs := `(install|in|groupinstall|localinstall|reinstall|rei|upgrade|up|update|upgrade-minimal|up-min)`

downloading_verbs := {"yum": _rpm_verbs, "dnf": _rpm_verbs, "microdnf": _rpm_verbs, "zypper": `(install|in)`}

cleaners := {
	"yum": `(yum\s+clean\s+all|rm\s+(-\S+\s+)*/var/cache/yum)`,
	"dnf": `(dnf\s+clean\s+all|rm\s+(-\S+\s+)*/var/cache/(dnf|yum))`,
	"microdnf": `(microdnf\s+clean\s+all|rm\s+(-\S+\s+)*/var/cache/(dnf|yum))`,
	"zypper": `(zypper\s+(-\S+\s+)*(clean|cc)(\s|$)|rm\s+(-\S+\s+)*/var/cache/zypp)`,
}

_findings contains df.finding("DF-035", ins.path, sprintf(
	"'%s' leaves the %s cache in the layer; add && %s clean%s in the same RUN",
	[s, tool, tool, suffix],
)) if {
	some ins in df.runs
	some s in df.segments(ins)
	some tool, clean in cleaners
	regex.match(sprintf(`^(\w+=\S*\s+)*(\S+/)?%s\s+(.*\s)?%s(\s|$)`, [tool, downloading_verbs[tool]]), s)
	not regex.match(clean, df.command(ins))
	not _cache_mount(ins, "/var/cache")
	suffix := {true: "", false: " all"}[tool == "zypper"]
}

# DF-036: pip install without --no-cache-dir keeps the wheel cache in the image.
pip_install := `^(\w+=\S*\s+)*(\S+/)?(pip[0-9.]*|python[0-9.]*\s+-m\s+pip)\s+(.*\s)?install(\s|$)`

_findings contains df.finding("DF-036", ins.path, sprintf(
	"'%s' keeps pip's cache in the layer; add --no-cache-dir (or ENV PIP_NO_CACHE_DIR=1)",
	[s],
)) if {
	some ins in df.runs
	some s in df.segments(ins)
	regex.match(pip_install, s)
	not contains(s, "--no-cache-dir")
	not _pip_cache_disabled(ins)
	not regex.match(`(?i)PIP_NO_CACHE_DIR=["']?(1|on|yes|true)\b`, df.command(ins))
	not _cache_mount(ins, "/root/.cache")
}

_pip_cache_disabled(ins) if {
	some e in df.instructions
	e.path == ins.path
	e.cmd == "env"
	e.i < ins.i
	some k, name in e.value
	k % 3 == 0
	name == "PIP_NO_CACHE_DIR"
	lower(trim(e.value[k + 1], `"'`)) in {"1", "on", "yes", "true"}
}

# DF-037: pip packages named on the command line are pinned (pkg==1.2, pkg>=1.2, URLs, paths).
pip_value_options := {"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root", "--trusted-host", "--platform", "--python-version", "--implementation", "--abi", "--src", "--upgrade-strategy", "--progress-bar", "--log", "--cache-dir", "--proxy", "--timeout", "--retries", "--root-user-action"}

_findings contains df.finding("DF-037", ins.path, sprintf(
	"pip installs '%s' without a version; pin it (%s==<version>) or use a requirements file with pinned versions",
	[pkg, pkg],
)) if {
	some ins in df.runs
	some s in df.segments(ins)
	regex.match(pip_install, s)
	not regex.match(`(^|\s)(-c|--constraint)(\s|=)`, s)
	some pkg in _arguments(s, "install", pip_value_options)
	not _pip_pinned(pkg)
}

# A version specifier, a local path or archive, or a VCS/URL reference with @ref.
_pip_pinned(pkg) if regex.match(`^[^+:]*([=<>~!]=|[<>])|^[./]|^[\w.-]+/|\.(whl|tar\.gz|zip)$|^\$`, pkg)

_pip_pinned(pkg) if regex.match(`^[\w.\[\],-]+\s*@\s*\S`, pkg)

_pip_pinned(pkg) if regex.match(`^(git\+|https?://|file:).*@[^/@#]+(#.*)?$`, pkg)

_pip_pinned(pkg) if regex.match(`^(https?://|file:)`, pkg)

# The arguments after `verb` that are neither options nor the values of value-taking options.
_arguments(s, verb, value_options) := [w |
	ws := df.words(s)
	some k, v in ws
	v == verb
	some n, w in ws
	n > k
	not startswith(w, "-")
	not ws[n - 1] in value_options
]

# DF-038: npm packages named on the command line are pinned (pkg@1.2.3).
_findings contains df.finding("DF-038", ins.path, sprintf(
	"npm installs '%s' without a version; pin it (%s@<version>) or install from package-lock.json with npm ci",
	[pkg, pkg],
)) if {
	some ins in df.runs
	some s in df.segments(ins)
	some verb in ["install", "i", "add"]
	regex.match(sprintf(`^(\w+=\S*\s+)*(\S+/)?npm\s+(.*\s)?%s(\s|$)`, [verb]), s)
	some pkg in _arguments(s, verb, {"--prefix", "--registry", "--cache", "-w", "--workspace", "--tag", "--loglevel"})
	not _npm_pinned(pkg)
}

_npm_pinned(pkg) if regex.match(`^[^@:/]+@.+|^@[^@/]+/[^@]+@.+|^[./~]|^(https?|file):|\.(tgz|tar|tar\.gz)$|^\$`, pkg)

# git URLs are pinned by a #commit-ish.
_npm_pinned(pkg) if regex.match(`^git(\+\w+)?:.*#.+`, pkg)

# DF-039: zypper dist-upgrade moves to a new distribution release in the middle of a build.
_findings contains df.finding("DF-039", ins.path, sprintf(
	"'%s' upgrades to a new distribution release during the build; use zypper patch or zypper update, and a newer base image for a new release",
	[s],
)) if {
	some ins in df.runs
	some s in df.segments(ins)
	regex.match(`^(\w+=\S*\s+)*(\S+/)?zypper\s+(.*\s)?(dist-upgrade|dup)(\s|$)`, s)
}
