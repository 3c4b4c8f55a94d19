# Tests that error on purpose.
package failing.errors

import rego.v1

color := "red" if input.a

color := "blue" if input.b

# Two complete rules with different values: eval_conflict_error.
test_conflict if {
	color == "red" with input as {"a": true, "b": true}
}

# A function named like a test cannot be evaluated as a test.
test_function(x) if x > 1

# Never finishes within the timeout (run with --timeout 1s).
r := numbers.range(1, 1000)

test_runs_forever if {
	some i in r
	some j in r
	some k in r
	i + j + k < 0
}
