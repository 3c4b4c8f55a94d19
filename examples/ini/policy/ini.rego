package main

deny contains "security.admin_password must be changed from the default" if input.security.admin_password == "admin"

deny_cookie contains "security.cookie_secure must be true" if input.security.cookie_secure == false

warn contains msg if {
	input.server.protocol == "http"
	msg := sprintf("server listens on plain HTTP port %v", [input.server.http_port])
}

warn_log contains "log level debug is noisy in production" if input.log.level == "debug"
