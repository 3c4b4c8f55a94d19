variable "environment" {
  type    = string
  default = "staging"
}

variable "instance_count" {
  default = 2
}
