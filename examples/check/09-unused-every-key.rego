# The key of an every is declared; leaving it unused is an error (use _).
package examples.unused_every_key

all_named if {
	every i, c in input.spec.containers {
		c.name != ""
	}
}
