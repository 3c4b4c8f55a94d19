terraform {
  required_version = ">= 1.5.0"
  backend "s3" {
    bucket = "tf-state"
    key    = "prod/terraform.tfstate"
  }
}

provider "aws" {
  alias  = "west"
  region = "us-west-2"
  default_tags {
    tags = local.common_tags
  }
}

locals {
  common_tags = merge(var.tags, {
    Environment = var.env
    ManagedBy   = "terraform"
  })
  subnets = { for idx, cidr in var.cidrs : "subnet-${idx}" => cidr }
  names   = [for s in var.services : lower(s.name) if s.enabled]
  flat    = flatten([for k, v in var.groups : [for m in v : { group = k, member = m }]])
  cond    = var.env == "prod" ? 3 : 1
  nested  = var.config["key"].sub[0]
  tmpl    = templatefile("${path.module}/user_data.sh.tpl", { port = var.port })
  json    = jsonencode({ a = 1, b = [true, null] })
  math    = (var.a + var.b) * 2 - var.c / 4 % 3
  neg     = -var.x
  not     = !var.flag
  str_ops = "${var.prefix}-${upper(var.name)}-%{if var.suffix != ""}${var.suffix}%{endif}"
  multi_interp = "a${1 + 2}b${"c"}d"
}

resource "aws_security_group" "web" {
  provider    = aws.west
  name        = "web-${var.env}"
  description = <<-EOT
    Security group for ${var.env}
    Managed by Terraform.
  EOT
  vpc_id      = data.aws_vpc.main.id

  dynamic "ingress" {
    for_each = var.ports
    iterator = port
    content {
      from_port   = port.value
      to_port     = port.value
      protocol    = "tcp"
      cidr_blocks = ["0.0.0.0/0"]
    }
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  lifecycle {
    create_before_destroy = true
    ignore_changes        = [tags["LastModified"], description]
  }

  tags = merge(local.common_tags, { Name = "web" })
}

resource "aws_instance" "app" {
  for_each      = toset(var.names)
  ami           = data.aws_ami.ubuntu.id
  instance_type = each.value == "big" ? "m5.large" : "t3.micro"
  user_data     = <<EOF
#!/bin/bash
echo "${each.key}" > /tmp/name
EOF
  root_block_device {
    volume_size = 20
    encrypted   = true
  }
  depends_on = [aws_security_group.web]
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 5.0"
  azs     = slice(data.aws_availability_zones.available.names, 0, 3)
  private_subnets = [for k, v in local.azs : cidrsubnet(var.cidr, 4, k)]
}

data "aws_iam_policy_document" "doc" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.b.arn}/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:SourceVpce"
      values   = [var.vpce]
    }
  }
}

variable "ports" {
  type        = list(number)
  default     = [80, 443]
  description = "Ports"
  validation {
    condition     = alltrue([for p in var.ports : p > 0 && p < 65536])
    error_message = "Invalid port."
  }
}

variable "obj" {
  type = object({
    name = string
    tags = optional(map(string), {})
  })
  sensitive = true
}

output "ids" {
  value     = [for i in aws_instance.app : i.id]
  sensitive = false
}

output "splat" { value = aws_instance.app[*].private_ip }

moved {
  from = aws_instance.old
  to   = aws_instance.app
}

import {
  to = aws_s3_bucket.b
  id = "bucket-name"
}

check "health" {
  assert {
    condition     = data.http.h.status_code == 200
    error_message = "down"
  }
}
