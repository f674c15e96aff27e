# One configuration, three servers reached over SSH: the mail server (its
# certificate pinned by DANE for SMTP), a web server (nginx) and an APT
# client. Planned from a laptop or a CI runner: every file and command goes
# over one SSH connection per host; probes go to the hosts' addresses.
# Host keys must be in known_hosts already (ssh-keyscan, checked by hand):
# trustform never trusts a key on first use.

host "mx1" {
  address = "192.0.2.25"
  ssh {
    user   = "deploy"
    become = true # root's files and postfix reload through sudo -n
  }
}

host "web1" {
  address = "192.0.2.80"
  ssh {
    user          = "deploy"
    identity_file = "~/.ssh/id_ed25519"
    become        = true
  }
}

host "apt1" {
  address = "10.0.0.12"
  ssh {
    user   = "deploy"
    jump   = "deploy@bastion.example.net" # not reachable but through the bastion
    become = true
  }
}

dns_zone "example" {
  name   = "example.net"
  server = "192.0.2.53:53"
  tsig {
    name        = "trustform"
    secret_file = "tsig.secret"
  }
}

acme_account "le" {
  directory = "https://acme-v02.api.letsencrypt.org/directory"
  email     = "hostmaster@example.net"
}

certificate "mail" {
  domains   = ["mail.example.net"]
  issuer    = acme_account.le
  challenge = "dns-01"
  cert_file = "/etc/ssl/mail/fullchain.pem"
  key_file  = "/etc/ssl/mail/privkey.pem"
  host      = host.mx1
}

tlsa "mail_smtp" {
  zone        = dns_zone.example
  name        = "_25._tcp.mail"
  certificate = certificate.mail
  ttl         = 300
}

certificate "www" {
  domains   = ["www.example.net"]
  issuer    = acme_account.le
  challenge = "dns-01"
  cert_file = "/etc/ssl/www/fullchain.pem"
  key_file  = "/etc/ssl/www/privkey.pem"
  host      = host.web1
}

tls_policy "intermediate" {
  profile = "mozilla-intermediate"
}

vhost "www" {
  server       = "nginx"
  config_file  = "/etc/nginx/sites-enabled/www.conf"
  listen       = "443"
  server_names = ["www.example.net"]
  certificate  = certificate.www
  tls_policy   = tls_policy.intermediate
  root         = "/var/www/html"
  host         = host.web1
}

apt_key "vendor" {
  fingerprint = "734608F7CD36DD4E720A4C708BF26C0845ABC4F2"
  url         = "file:keys/example-archive.asc"
  keyring     = "/etc/apt/keyrings/vendor.gpg"
  host        = host.apt1
}

apt_source "vendor" {
  file       = "/etc/apt/sources.list.d/vendor.sources"
  uris       = ["https://apt.example.net/debian"]
  suites     = ["stable"]
  components = ["main"]
  signed_by  = apt_key.vendor
  host       = host.apt1
}
