# Two defaults for one rule.
package examples.multiple_defaults

default allow := false

allow if input.admin

default allow := true
