# An import that nothing refers to.
package examples.unused_import

import data.lib.kubernetes
import data.lib.naming

deny contains msg if {
	not naming.valid(input.metadata.name)
	msg := "invalid name"
}
