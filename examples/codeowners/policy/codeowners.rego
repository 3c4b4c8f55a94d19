package main

deny contains msg if {
	some rule in input.rules
	count(rule.owners) == 0
	msg := sprintf("line %d: %s has no owner", [rule.lineNumber, rule.pattern])
}

warn contains msg if {
	some rule in input.rules
	some owner in rule.owners
	owner.type == "email"
	msg := sprintf("line %d: prefer team handles to e-mail owners (%s)", [rule.lineNumber, owner.value])
}
