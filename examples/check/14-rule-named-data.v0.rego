# Rules named input or data (Rego v0 accepts them unless --strict).
package examples.rule_named_data

input = {"x": 1}

data {
	true
}
