variable "ttl" {
  type    = number
  default = "an hour"
}
