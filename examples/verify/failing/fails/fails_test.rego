# Tests that fail on purpose (the main set under policy/ passes).
package failing.fails

import rego.v1

import data.lib.k8s

# A wrong expectation.
test_wrong_expectation if {
	k8s.registry("quay.io/org/app") == "docker.io"
}

# Undefined: the function has no value for this input.
test_undefined_value if {
	k8s.image_tag("nginx@sha256:0123") == "latest"
}

# A value that is not `true` fails, even when it is truthy.
test_not_true := "yes"

test_false := false

# print output is shown for failing tests.
test_with_print if {
	x := 41 + 1
	print("x is", x)
	x == 43
}

# One failing sub-test among passing ones.
cases := {"a": 1, "b": 2, "c": 3}

test_table[name] if {
	some name, n in cases
	n < 3
}

# The same name twice: each rule is a test of its own (the second is test_twice#01).
test_twice if true

test_twice if false

# A test under development.
todo_test_someday if false
