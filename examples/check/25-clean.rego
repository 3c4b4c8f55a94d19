# A module with no errors, strict or not.
package examples.clean

import data.examples.clean.naming

deny contains msg if {
	some c in input.spec.containers
	not naming.valid(c.name)
	msg := sprintf("invalid container name %q", [c.name])
}

label(obj, key) := obj.metadata.labels[key]

pick(_, y) := y

naming.valid(name) if regex.match(`^[a-z][a-z0-9-]*$`, name)
