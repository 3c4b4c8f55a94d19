package main

deny contains "DEBUG must be false when APP_ENV is production" if {
	input.APP_ENV == "production"
	input.DEBUG == "true"
}

deny_password_in_url contains "DATABASE_URL contains a password" if {
	regex.match(`://[^:/]+:[^@]+@`, input.DATABASE_URL)
}

warn contains msg if {
	some key, value in input
	value == ""
	msg := sprintf("%s is empty", [key])
}
