# Unused locals inside a comprehension body are reported at their expression.
package examples.unused_in_comprehension

names := [n |
	c := input.spec.containers[_]
	n := c.name
	port := c.ports[0]
]
