package examples.parse.features

import rego.v1
import data.foo as bar

# METADATA
# title: P
default p := false

p if {
	x := [1, "a", null, true, {"k": 2.5}, {3}]
	some y in x
	not y == 2
	count(x) > 1 with input as {}
	every z in x { z }
	q[_] = w
	w := [a | a := 1]
}

q contains v if { v := 1 }
f(a, b) := a + b
g.h[i] := 1 if i := 2
r := 1 if { false } else := 2
