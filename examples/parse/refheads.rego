# METADATA
# title: Ref heads, functions, else chains and templates
# description: a tour of rule head forms
package examples.parse.refheads

import rego.v1

default allow := false

allow if input.user.admin

labels[name] := value if {
	some name, value in input.metadata.labels
}

violations contains msg if {
	some c in input.spec.containers
	not startswith(c.image, "registry.example.com/")
	msg := sprintf("image %q comes from an untrusted registry (100%% sure)", [c.image])
}

config.limits.cpu := 2

tier(score) := "gold" if {
	score > 90
} else := "silver" if {
	score > (50 - 1)
} else := "bronze"

greeting := $"hello {input.user.name}, you have {count(violations)} violations"

ports := {p | some p in input.ports; p >= 1024}

pairs := {k: v | some k, v in {"a": -1, "b": [1, 2][_]}}

mock_test if {
	allow with input as {"user": {"admin": true}} with time.now_ns as 0
}
