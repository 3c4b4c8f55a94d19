package main

deny contains "workflows must not request write-all permissions" if input.permissions == "write-all"

deny_pr_target contains "pull_request_target runs untrusted code with repository secrets" if {
	input.on.pull_request_target != false
	"pull_request_target" in object.keys(input.on)
}

warn contains msg if {
	some job_name, job in input.jobs
	some step in job.steps
	ref := split(step.uses, "@")[1]
	ref in {"main", "master"}
	msg := sprintf("job %s: action %s is pinned to a branch", [job_name, step.uses])
}
