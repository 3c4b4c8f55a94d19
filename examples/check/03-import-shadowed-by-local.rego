# A local variable of the same name hides the import, which is then unused.
package examples.import_shadowed

import data.config.limits

allow if {
	limits := {"cpu": 2}
	input.cpu <= limits.cpu
}
