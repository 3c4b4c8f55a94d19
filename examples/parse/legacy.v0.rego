package examples.parse.legacy

deny[msg] {
	input.kind == "Pod"
	not input.spec.securityContext.runAsNonRoot
	msg = "pods must run as non-root"
}

allow = true { count(deny) == 0 }

ports[p] = true { p := input.ports[_] } { p := 80 }
