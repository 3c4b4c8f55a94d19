# A complete rule with rules defined below its path.
package examples.conflicts_children

config := {"a": 1}

config.b := 2

config.c.d := 3
