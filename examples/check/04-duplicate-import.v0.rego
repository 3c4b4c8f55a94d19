# In Rego v0 only strict mode rejects two imports binding the same name.
package examples.duplicate_import

import data.lib.a
import data.lib.b as a

allow {
	a.ok
}
