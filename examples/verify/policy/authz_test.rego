package authz_test

import rego.v1

import data.authz

users := {
	"alice": {"roles": ["admin"]},
	"bob": {"roles": ["dev"]},
	"carol": {"roles": ["viewer"]},
}

grants := {
	"dev": [{"action": "read", "resource": "/repos/*"}, {"action": "write", "resource": "/repos/*"}],
	"viewer": [{"action": "read", "resource": "/repos/public"}],
}

# 2024-03-05 was a Tuesday.
tuesday_10am := time.parse_rfc3339_ns("2024-03-05T10:00:00Z")

saturday_10am := time.parse_rfc3339_ns("2024-03-09T10:00:00Z")

test_admin_allowed if {
	authz.allow with input as {"user": "alice", "action": "delete", "resource": "/repos/x"} with data.users as users
}

test_dev_can_write if {
	authz.allow with input as {"user": "bob", "action": "write", "resource": "/repos/api"}
		with data.users as users
		with data.grants as grants
}

test_viewer_cannot_write if {
	not authz.allow with input as {"user": "carol", "action": "write", "resource": "/repos/public"}
		with data.users as users
		with data.grants as grants
}

test_glob_does_not_cross_segments if {
	not authz.allow with input as {"user": "bob", "action": "read", "resource": "/repos/api/secrets"}
		with data.users as users
		with data.grants as grants
}

test_unknown_user_denied if {
	not authz.allow with input as {"user": "mallory", "action": "read", "resource": "/repos/api"} with data.users as users
}

# Mocking a builtin with a value.
test_deploy_in_window if {
	authz.allow with input as {"user": "bob", "action": "deploy"}
		with data.users as users
		with time.now_ns as tuesday_10am
}

test_deploy_on_weekend_denied if {
	not authz.allow with input as {"user": "bob", "action": "deploy"}
		with data.users as users
		with time.now_ns as saturday_10am
}

test_deploy_during_freeze_denied if {
	not authz.allow with input as {"user": "bob", "action": "deploy"}
		with data.users as users
		with data.freeze.active as true
		with time.now_ns as tuesday_10am
}

# Mocking a builtin with a function.
always_noon(_) := [12, 0, 0]

test_deploy_window_with_mocked_clock if {
	authz.deploy_window with time.clock as always_noon with time.now_ns as tuesday_10am
}

# Mocking a user-defined function with another function.
never_weekend(_) := false

test_weekend_check_mocked if {
	authz.deploy_window with authz.weekend as never_weekend with time.now_ns as saturday_10am
}

test_reasons_unknown_user if {
	authz.reasons == {"unknown user"} with input as {"user": "mallory"} with data.users as users
}

test_reasons_no_grant if {
	authz.reasons == {"no grant for action"} with input as {"user": "carol", "action": "delete"}
		with data.users as users
		with data.grants as grants
}

test_risk_levels if {
	authz.risk("delete") == "high"
	authz.risk("write") == "medium"
	authz.risk("read") == "low"
}

test_user_grants if {
	grant_actions := {g.action | some g in authz.user_grants} with input as {"user": "bob"}
		with data.users as users
		with data.grants as grants
	grant_actions == {"read", "write"}
}
