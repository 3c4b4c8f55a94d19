package main

deny contains msg if {
	some name, bucket in input.resource.aws_s3_bucket
	some b in bucket
	b.acl in {"public-read", "public-read-write"}
	msg := sprintf("aws_s3_bucket.%s: ACL %s makes the bucket public", [name, b.acl])
}

deny_open_ssh contains msg if {
	some name, rules in input.resource.aws_security_group_rule
	some rule in rules
	rule.from_port <= 22
	rule.to_port >= 22
	"0.0.0.0/0" in rule.cidr_blocks
	msg := sprintf("aws_security_group_rule.%s: SSH open to the internet", [name])
}

warn contains msg if {
	some type, resources in input.resource
	some name, list in resources
	some r in list
	not r.tags.owner
	msg := sprintf("%s.%s has no owner tag", [type, name])
}

warn_untyped_variable contains msg if {
	some name, vars in input.variable
	some v in vars
	not v.type
	msg := sprintf("variable %s has no type", [name])
}
