# One configuration for a fleet reached over SSH: the web servers (a
# certificate and an nginx vhost each), the mail servers (a certificate
# pinned by DANE for SMTP each) and an APT client behind a bastion. Adding
# a server is one line in var.web or var.mail. Planned from a laptop or a
# CI runner: every file and command goes over one SSH connection per host;
# probes go to the hosts' addresses. Host keys must be in known_hosts
# already (ssh-keyscan, checked by hand): trustform never trusts a key on
# first use.

variable "domain" {
  type    = string
  default = "example.net"
}

variable "web" {
  description = "Web servers: name (the first label of its www name) → address."
  type        = map(string)
  default = {
    web1 = "192.0.2.80"
    web2 = "192.0.2.81"
    web3 = "192.0.2.82"
  }
}

variable "mail" {
  description = "Mail servers: name (the first label of its MX name) → address."
  type        = map(string)
  default = {
    mx1 = "192.0.2.25"
    mx2 = "192.0.2.26"
  }
}

variable "ssh_user" {
  type    = string
  default = "deploy"
}

locals {
  servers = merge(var.web, var.mail)
}

host "server" {
  for_each = local.servers
  address  = each.value
  ssh {
    user   = var.ssh_user
    become = true # root's files and reloads through sudo -n
  }
}

host "apt1" {
  address = "10.0.0.12"
  ssh {
    user   = var.ssh_user
    jump   = "${var.ssh_user}@bastion.${var.domain}" # reachable only through the bastion
    become = true
  }
}

dns_zone "example" {
  name           = var.domain
  server         = "192.0.2.53:53"
  require_dnssec = true
  tsig {
    name        = "trustform"
    secret_file = "tsig.secret"
  }
}

acme_account "le" {
  directory = "https://acme-v02.api.letsencrypt.org/directory"
  email     = "hostmaster@${var.domain}"
  # Registration agrees to the CA's terms (the plan names them).
  terms_of_service_agreed = true
}

certificate "mail" {
  for_each  = var.mail
  domains   = ["${each.key}.${var.domain}"]
  issuer    = acme_account.le
  challenge = "dns-01"
  cert_file = "/etc/ssl/mail/fullchain.pem"
  key_file  = "/etc/ssl/mail/privkey.pem"
  host      = host.server[each.key]
}

tlsa "smtp" {
  for_each    = var.mail
  zone        = dns_zone.example
  name        = "_25._tcp.${each.key}"
  certificate = certificate.mail[each.key]
  ttl         = 300
}

certificate "www" {
  for_each  = var.web
  domains   = ["${each.key}.${var.domain}"]
  issuer    = acme_account.le
  challenge = "dns-01"
  cert_file = "/etc/ssl/www/fullchain.pem"
  key_file  = "/etc/ssl/www/privkey.pem"
  host      = host.server[each.key]
}

tls_policy "intermediate" {
  profile = "mozilla-intermediate"
}

vhost "www" {
  for_each     = var.web
  server       = "nginx"
  config_file  = "/etc/nginx/sites-enabled/www.conf"
  listen       = "443"
  server_names = ["${each.key}.${var.domain}"]
  certificate  = certificate.www[each.key]
  tls_policy   = tls_policy.intermediate
  root         = "/var/www/html"
  host         = host.server[each.key]
}

apt_key "vendor" {
  fingerprint = "734608F7CD36DD4E720A4C708BF26C0845ABC4F2"
  url         = "file:keys/example-archive.asc"
  keyring     = "/etc/apt/keyrings/vendor.gpg"
  host        = host.apt1
}

apt_source "vendor" {
  file       = "/etc/apt/sources.list.d/vendor.sources"
  uris       = ["https://apt.${var.domain}/debian"]
  suites     = ["stable"]
  components = ["main"]
  signed_by  = apt_key.vendor
  host       = host.apt1
}
