# Each else body is checked on its own; the argument check comes after the bodies.
package examples.unused_else

tier(x, unused) := "gold" if {
	x > 100
	bonus := 10
} else := "silver" if {
	x > 10
	extra := 1
} else := "bronze"
