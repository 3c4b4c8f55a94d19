package main

deny contains "spring.datasource.password must come from a secret store, not the file" if {
	input["spring.datasource.password"] != ""
}

deny_actuator contains "all actuator endpoints are exposed over HTTP" if {
	input["management.endpoints.web.exposure.include"] == "*"
}

warn contains msg if {
	input["logging.level.root"] == "DEBUG"
	msg := "root log level is DEBUG"
}
