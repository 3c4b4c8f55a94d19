region        = "eu-west-1"
instance_type = "t3.micro"
count         = 3
enabled       = true
tags = {
  Team = "platform"
  Env  = "prod"
}
cidrs = ["10.0.0.0/16", "10.1.0.0/16"]
