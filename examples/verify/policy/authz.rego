# An API authorization policy: roles and grants come from data, deployments have a window.
package authz

import rego.v1

default allow := false

allow if user_is_admin

allow if {
	some grant in user_grants
	input.action == grant.action
	glob.match(grant.resource, ["/"], input.resource)
}

allow if {
	input.action == "deploy"
	deploy_window
	not data.freeze.active
}

user_is_admin if "admin" in data.users[input.user].roles

user_grants contains grant if {
	some role in data.users[input.user].roles
	some grant in data.grants[role]
}

# Deployments are allowed on weekdays between 09:00 and 17:00 UTC.
deploy_window if {
	now := time.now_ns()
	[hour, _, _] := time.clock([now, "UTC"])
	hour >= 9
	hour < 17
	not weekend(now)
}

weekend(ns) if time.weekday([ns, "UTC"]) in {"Saturday", "Sunday"}

# Why a request was denied, for logs.
reasons contains "unknown user" if not data.users[input.user]

reasons contains "no grant for action" if {
	data.users[input.user]
	not user_is_admin
	every grant in user_grants {
		grant.action != input.action
	}
}

default risk(_) := "low"

risk(action) := "high" if action in {"delete", "deploy"}

risk(action) := "medium" if action == "write"
