# comment
terraform {
  required_version = ">= 1.0"
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
}
variable "region" {
  type    = string
  default = "us-east-1"
}
provider "aws" {
  region = var.region
}
resource "aws_s3_bucket" "b" {
  bucket = "my-${var.region}-bucket"
  count  = 2
  tags = {
    Name = "x"
    "Quoted Key" = 1.5
    n = null
  }
  list = [1, "two", true, false]
  expr = length(var.x) > 0 ? "a" : "b"
  heredoc = <<EOT
hello ${var.region}
world
EOT
  indented = <<-EOT
    a
      b
    EOT
  neg = -1
  math = 1 + 2 * 3
  idx = aws_instance.x[0].id
  splat = aws_instance.x[*].id
  forexpr = [for s in var.list : upper(s) if s != ""]
  formap = {for k, v in var.m : k => v}
  str_only = "${var.x}"
  esc = "a\"b\\c\n$${x}"
  big = 12345678901234567890
  flt = 1e3
  lifecycle {
    prevent_destroy = true
  }
  dynamic "ingress" {
    for_each = var.rules
    content {
      port = ingress.value
    }
  }
}
resource "aws_s3_bucket" "c" {}
module "m" {
  source = "./m"
}
locals {
  a = 1
}
locals {
  b = 2
}
output "o" { value = local.a }
