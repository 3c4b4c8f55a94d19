# Settings and reporting shared by every rule package of the built-in library.
#
# Users configure the library through data under `data.portcullis` (see library/README.md):
#   disabled_rules: ["K8S-007", ...]    rules that never report
#   enabled_rules:  ["K8S-001", ...]    when non-empty, only these rules report
#   severity:       {"K8S-007": "deny"} move a rule between deny and warn
#   kubernetes: {...}, dockerfile: {...} per-domain parameters
package portcullis_lib.config

import data.portcullis_lib.rules

default settings := {}

settings := data.portcullis if is_object(data.portcullis)

# param(["kubernetes", "min_replicas"], 2): a user setting, or the fallback when it is not set.
param(path, fallback) := object.get(settings, path, fallback)

disabled_rules := {id | some id in param(["disabled_rules"], [])}

enabled_rules := {id | some id in param(["enabled_rules"], [])}

# enabled(id): the rule is not disabled and, when enabled_rules is given, listed there.
enabled(id) if {
	not id in disabled_rules
	count(enabled_rules) == 0
}

enabled(id) if {
	not id in disabled_rules
	id in enabled_rules
}

# level(id): "deny" or "warn" — the user's override, else the catalog's default.
level(id) := lvl if {
	lvl := param(["severity", id], "")
	lvl in {"deny", "warn"}
} else := rules.catalog[id].level

# report(findings, lvl): the conftest results of the enabled findings reported at level lvl.
# A finding is an array [id, path, resource, text] with the exemption that covers it as a
# fifth element, if any (see finding below; an array rather than an object: sets of findings
# are hashed and sorted for every document, and arrays compare without their keys sorted);
# a result is an object with the message and metadata: {"msg", "id", "title"[, "resource"][, "path"]}.
# Without settings that enable, disable or re-level rules (the common case), each finding is
# reported at its catalog level with no per-rule look-ups: this runs for every document.
report(findings, lvl) := {result(f) |
	some f in findings
	not f[4]
	rules.catalog[f[0]].level == lvl
} if {
	not _rule_settings
} else := {result(f) |
	some f in findings
	not f[4]
	enabled(f[0])
	level(f[0]) == lvl
}

# Some setting changes which rules report or at which level.
_rule_settings if count(disabled_rules) > 0

_rule_settings if count(enabled_rules) > 0

_rule_settings if count(param(["severity"], {})) > 0

# exempted(findings): the results of the enabled findings that an exemption covers, with the
# exemption's reason; `portcullis test` reports a package's `exempted` set as its exceptions.
exempted(findings) := {r |
	some f in findings
	e := f[4]
	enabled(f[0])
	r := object.union(result(f), {
		"msg": sprintf("%s (exempted by %s: %s)", [message(f), e.by, e.reason]),
		"reason": e.reason,
		"exempted_by": e.by,
	})
}

# The result of a finding: the common shape (a resource and a text, no path) built directly,
# with the message message(f) gives; any other shape (the keys that are set, and the message).
result(f) := {"msg": sprintf("[%s] %s: %s", [f[0], f[2], f[3]]), "id": f[0], "title": rules.catalog[f[0]].title, "resource": f[2]} if {
	f[1] == ""
	f[2] != ""
	f[3] != ""
} else := object.union(
	{k: v | some [k, v] in [["resource", f[2]], ["path", f[1]]]; v != ""},
	{"msg": message(f), "id": f[0], "title": rules.catalog[f[0]].title},
)

# "[K8S-001] path: Deployment/web: container 'app' ..." (path only with combined input).
message(f) := sprintf("[%s] %s: %s", [f[0], f[2], f[3]]) if {
	f[1] == ""
	f[2] != ""
	f[3] != ""
} else := sprintf("[%s] %s", [f[0], concat(": ", [x | some x in [f[1], f[2], f[3]]; x != ""])])

finding(id, path, resource, text) := [id, path, resource, text]

# with_exemption(f, e): the finding f covered by the exemption e ({"reason", "by"}).
with_exemption(f, e) := array.concat(f, [e])

# Names of environment variables and build arguments that look like secrets.
default secret_name_pattern := `(?i)(password|passwd|secret|(^|[_-])(token|api_?key|access_?key|private_?key|credentials?|key)($|[_-]))`

secret_name_pattern := p if {
	p := param(["secret_name_pattern"], "")
	p != ""
}

allowed_secret_names := {n | some n in param(["allowed_secret_names"], [])}

secret_name(name) if {
	not name in allowed_secret_names
	regex.match(secret_name_pattern, name)
}
