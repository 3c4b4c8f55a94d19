# An unused local inside an every body (the every key is then not reported).
package examples.unused_in_every

allow if {
	every k, c in input.spec.containers {
		limit := c.resources.limits.cpu
		c.image != ""
	}
}
