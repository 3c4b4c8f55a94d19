# Errors of several kinds: only the earliest compile stage is reported (here, unused imports
# in strict mode; the unsafe variable and the unused local come from later stages).
package examples.stages

import data.unused

p if {
	x := 1
	y > 0
}
