variable "email" {
  type    = string
  default = "root"
  validation {
    condition     = can(regex("@", var.email))
    error_message = "The ACME contact must be an e-mail address."
  }
}
