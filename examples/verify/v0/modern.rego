# A v1-syntax module among v0 ones: `import rego.v1` opts in.
package legacy.modern

import rego.v1

allowed_methods := {"GET", "HEAD"}

safe if input.method in allowed_methods

test_safe if safe with input as {"method": "HEAD"}

test_unsafe if not safe with input as {"method": "POST"}
