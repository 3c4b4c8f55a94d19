# A function argument named data or input.
package examples.args_shadow

lookup(data, key) := data[key]
