variable "domain" {
  type        = string
  description = "The zone every name lives under."
}
