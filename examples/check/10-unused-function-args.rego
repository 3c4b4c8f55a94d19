# Function arguments that the function never reads.
package examples.unused_args

label(obj, key, default_value) := obj.metadata.labels[key]

pair([a, b], c) := a + c

first(xs, ys) := xs[0] if {
	true
} else := 0
