# Dockerfiles as the rule packages see them. A Dockerfile parses (conftest's shape) to a list
# of instructions {Cmd, Flags, JSON, Stage, SubCmd, Value}; per document the input is that
# list, combined it is the `contents` of an entry (see portcullis_lib.documents).
package portcullis_lib.dockerfile

import data.portcullis_lib.config
import data.portcullis_lib.documents
import data.portcullis_lib.images

is_instructions(x) if {
	is_array(x)
	count(x) > 0
	every i in x {
		is_object(i)
		is_string(i.Cmd)
	}
}

# Dockerfiles by path ("" unless the input is combined).
files[d.path] := d.content if {
	some d in documents.docs
	is_instructions(d.content)
}

# `conftest parse` prints a Dockerfile as [[...]]; accept that shape too.
files[d.path] := x if {
	some d in documents.docs
	not is_instructions(d.content)
	is_array(d.content)
	count(d.content) == 1
	x := d.content[0]
	is_instructions(x)
}

paths := {p | some p, _ in files}

# The input holds at least one Dockerfile (the rule packages check nothing otherwise).
present if count(files) > 0

# Every instruction: {"path", "i" (position), "cmd" (lower case), "stage", "value", "flags", "json"}.
instructions contains {
	"path": p,
	"i": i,
	"cmd": lower(ins.Cmd),
	"stage": object.get(ins, "Stage", 0),
	"value": _strings(object.get(ins, "Value", [])),
	"flags": _strings(object.get(ins, "Flags", [])),
	"json": object.get(ins, "JSON", false) == true,
} if {
	some p, list in files
	some i, ins in list
}

_strings(x) := x if is_array(x)

else := []

# A RUN instruction's command line, whitespace collapsed.
command(ins) := trim_space(regex.replace(concat(" ", ins.value), `\s+`, " "))

# The command lines of a RUN, split at &&, ||, ; and |.
segments(ins) := [s |
	some part in regex.split(`&&|\|\||;|\|`, command(ins))
	s := trim_space(part)
	s != ""
]

runs contains ins if {
	some ins in instructions
	ins.cmd == "run"
}

first_from(p) := min({ins.i | some ins in instructions; ins.path == p; ins.cmd == "from"})

# Default values of the ARGs declared before the first FROM (usable in FROM lines).
global_args(p) := {name: value |
	some ins in instructions
	ins.path == p
	ins.cmd == "arg"
	ins.i < first_from(p)
	some v in ins.value
	contains(v, "=")
	name := split(v, "=")[0]
	value := substring(v, count(name) + 1, -1)
}

_substitute(p, s) := strings.replace_n(
	object.union(
		{sprintf("${%s}", [k]): v | some k, v in global_args(p)},
		{sprintf("$%s", [k]): v | some k, v in global_args(p)},
	),
	s,
)

# Stages: {"path", "stage", "i", "raw" (as written), "ref" (global ARGs substituted), "alias"}.
stages contains {
	"path": ins.path,
	"stage": ins.stage,
	"i": ins.i,
	"raw": ins.value[0],
	"ref": _substitute(ins.path, ins.value[0]),
	"alias": _alias(ins.value),
} if {
	some ins in instructions
	ins.cmd == "from"
	count(ins.value) > 0
}

_alias(v) := lower(v[2]) if {
	count(v) >= 3
	lower(v[1]) == "as"
} else := ""

# [path, stage, parent]: stage is built FROM an earlier stage's alias.
stage_parents contains [s.path, s.stage, t.stage] if {
	some s in stages
	some t in stages
	t.path == s.path
	t.stage < s.stage
	t.alias != ""
	lower(s.ref) == t.alias
}

stage_ref(s) if {
	some e in stage_parents
	e[0] == s.path
	e[1] == s.stage
}

# Base images pulled from a registry: {"path", "stage", "ref", "image" (parsed)}.
# Skipped: scratch, earlier stages, and references that still contain an unresolved variable.
base_images contains {"path": s.path, "stage": s.stage, "ref": s.ref, "image": images.parse(s.ref)} if {
	some s in stages
	lower(s.ref) != "scratch"
	not stage_ref(s)
	not contains(s.ref, "$")
}

final_stage(p) := max({s.stage | some s in stages; s.path == p})

# The final stage and the stages it is built FROM (it inherits their USER, HEALTHCHECK, ...).
final_chain(p) := graph.reachable(
	{s.stage: {parent | some e in stage_parents; e[0] == p; e[1] == s.stage; parent := e[2]} |
		some s in stages
		s.path == p
	},
	{final_stage(p)},
)

# Instructions that end up in the final image (of the final stage or the stages it builds on).
final_instructions(p) := {ins |
	some ins in instructions
	ins.path == p
	ins.stage in final_chain(p)
}

# The last instruction of a kind in the final image, if any.
last_final(p, cmd) := ins if {
	candidates := {x | some x in final_instructions(p); x.cmd == cmd}
	count(candidates) > 0
	last := max({x.i | some x in candidates})
	some ins in candidates
	ins.i == last
}

finding(id, path, text) := config.finding(id, path, "", text)

# The value of a --name=value flag of an instruction (COPY --from=build, RUN --mount=...).
flag_values(ins, name) := [substring(f, count(prefix), -1) |
	prefix := sprintf("--%s=", [name])
	some f in ins.flags
	startswith(lower(f), prefix)
]

# The words of a command segment (split at blanks).
words(s) := [w | some w in split(s, " "); w != ""]

# Stage aliases defined before instruction position i of file p.
aliases_before(p, i) := {s.alias | some s in stages; s.path == p; s.i < i; s.alias != ""}
