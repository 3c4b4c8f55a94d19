# Each Dockerfile is checked as the list of its instructions: {Cmd, Flags, Value, Stage, ...}.
package main

deny contains msg if {
	some instr in input
	instr.Cmd == "from"
	image := instr.Value[0]
	endswith(image, ":latest")
	msg := sprintf("stage %d: base image %s uses the latest tag", [instr.Stage, image])
}

deny_sudo contains msg if {
	some instr in input
	instr.Cmd == "run"
	contains(concat(" ", instr.Value), "sudo ")
	msg := sprintf("stage %d: do not use sudo in RUN (%s)", [instr.Stage, concat(" ", instr.Value)])
}

warn_add contains msg if {
	some instr in input
	instr.Cmd == "add"
	startswith(instr.Value[0], "http")
	msg := sprintf("stage %d: ADD downloads %s; prefer curl in RUN or COPY", [instr.Stage, instr.Value[0]])
}

final_stage := max([instr.Stage | some instr in input])

warn_user contains "the final stage runs as root (add a USER instruction)" if {
	not user_in_final_stage
}

user_in_final_stage if {
	some instr in input
	instr.Stage == final_stage
	instr.Cmd == "user"
}
