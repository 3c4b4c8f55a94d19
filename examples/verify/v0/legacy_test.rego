package legacy

test_get_health_allowed {
	allow with input as {"method": "GET", "path": "/health"}
}

test_get_private_denied {
	not allow with input as {"method": "GET", "path": "/admin"}
}

test_admin_allowed {
	allow with input as {"method": "POST", "user": "root"} with data.admins as ["root"]
}

test_anonymous_delete_denied {
	deny["anonymous deletes are not allowed"] with input as {"method": "DELETE"}
}

test_quota {
	quota == {"alice": 10} with data.limits as {"alice": 10}
}

test_double {
	double(21) == 42
}

test_double_mocked {
	double(1) == 100 with double as 100
}

todo_test_rate_limits {
	false
}
