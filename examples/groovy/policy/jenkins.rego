# Policies over Jenkinsfiles read with the groovy parser: the input is the
# syntax tree (nodes with kind, line, column and children; tokens with text).
package main

import rego.v1

# Steps that run their argument in a shell.
shell_steps := {"sh", "bat", "powershell", "pwsh"}

string_tokens := {
	"StringLiteral", "GStringFull", "GStringBegin", "GStringPart", "GStringEnd",
	"SlashyStringLit", "DollarSlashyStringLit",
}

# Calls of a step by name: `sh 'x'`, `sh("x")`, `agent any`.
step_calls contains [name, call] if {
	walk(input, [_, call])
	call.kind == "CallExpr"
	call.children[0].kind == "IdentExpr"
	name := call.children[0].children[0].text
}

# The literal text of a call's arguments (interpolations left out).
literal_text(call) := concat("", [t.text |
	walk(call, [_, t])
	t.kind in string_tokens
])

deny contains result if {
	some [name, call] in step_calls
	name in shell_steps
	text := lower(literal_text(call))
	regex.match(`(curl|wget)[^|]*\|\s*(sudo\s+)?(ba|z)?sh\b`, text)
	result := {
		"msg": sprintf("%s step on line %d pipes a download into a shell", [name, call.line]),
		"_loc": {"file": data.conftest.file.name, "line": call.line},
	}
}

deny contains msg if {
	some ["agent", call] in step_calls
	call.children[1].children[0].text == "any"
	msg := sprintf("line %d: `agent any` runs on any executor; name a label or a container", [call.line])
}

warn contains msg if {
	some [name, call] in step_calls
	name in shell_steps
	contains(literal_text(call), "sudo ")
	msg := sprintf("%s step on line %d uses sudo", [name, call.line])
}
