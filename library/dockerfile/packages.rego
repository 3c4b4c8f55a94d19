# Dockerfile package management: DF-005 (vendor updates installed), DF-013 (apt-get install
# --no-install-recommends), DF-014 (apk add --no-cache), DF-020 (apt-get update with install).
package dockerfile.packages

import data.portcullis_lib.config
import data.portcullis_lib.dockerfile as df

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
findings contains df.finding(
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
findings contains df.finding("DF-013", ins.path, sprintf(
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
findings contains df.finding("DF-014", ins.path, sprintf(
	"'%s' leaves the package index in the image; add --no-cache",
	[s],
)) if {
	some ins in df.runs
	some s in df.segments(ins)
	regex.match(install_patterns[1], s)
	not contains(s, "--no-cache")
}

# DF-020
findings contains df.finding("DF-020", ins.path, sprintf(
	"'%s' runs without an install in the same RUN, so a cached layer can serve a stale index; use RUN apt-get update && apt-get install -y ...",
	[s],
)) if {
	some ins in df.runs
	some s in df.segments(ins)
	regex.match(`^(\w+=\S*\s+)*(\S+/)?apt(-get)?\s+(.*\s)?update(\s|$)`, s)
	not _segment_matches(ins, [install_patterns[0], upgrade_patterns[0]])
}
