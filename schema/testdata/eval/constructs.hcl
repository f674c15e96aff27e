# Each construct of the language, evaluated: the golden file is every block
# written out with its values, as state records it.
variable "domain" {
  type    = string
  default = "Example.Test"
}

variable "mail" {
  type = map(object({ address = string, smtp = bool }))
  default = {
    mx1 = { address = "192.0.2.25", smtp = true }
    mx2 = { address = "192.0.2.26", smtp = false }
  }
}

variable "token" {
  type      = string
  default   = "not-in-any-output"
  sensitive = true
}

locals {
  zone     = lower(var.domain)                                      # a function
  smtp     = { for k, m in var.mail : k => m if m.smtp }            # a for expression with a filter
  names    = [for k in sort(keys(var.mail)) : "${k}.${local.zone}"] # a template
  ca_label = length(local.smtp) > 1 ? "fleet" : "single"            # a conditional
}

local_ca "ca" {
  common_name = format("%s CA for %s (%s)", title(local.ca_label), join(", ", local.names), var.token)
}

host "mx" {
  for_each = var.mail
  address  = each.value.address
}

certificate "mx" {
  for_each  = var.mail
  domains   = ["${each.key}.${local.zone}"]
  issuer    = local_ca.ca
  cert_file = "certs/${each.key}.pem"
  key_file  = "certs/${each.key}.key"
  key_type  = each.value.smtp ? "ec256" : "ec384"
  host      = host.mx[each.key]
}

dns_zone "z" {
  name      = local.zone
  zone_file = "${local.zone}.zone"
}

tlsa "smtp" {
  for_each    = local.smtp
  zone        = dns_zone.z
  port        = 25
  hostname    = "${each.key}.${local.zone}"
  certificate = certificate.mx[each.key]
  ttl         = try(each.value.ttl, 300)
}

apt_key "vendor" {
  fingerprint = upper("734608f7cd36dd4e720a4c708bf26c0845abc4f2")
  url         = "key.asc"
  keyring     = "/etc/apt/keyrings/${replace(local.zone, ".", "-")}.gpg"
}
