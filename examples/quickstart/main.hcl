# The quickstart: everything trustform manages, on the embedded default.
# No server runs: the zone is a file, certificates come from a local CA, and
# every file lands under ./out, a stand-in for the server's root directory.

host "server" {
  address = "192.0.2.10"
  root    = "out"
}

dns_zone "example" {
  name      = "example.test"
  zone_file = "example.test.zone"
}

local_ca "example" {
  common_name = "Example Test CA"
}

certificate "www" {
  domains   = ["example.test", "www.example.test"]
  issuer    = local_ca.example
  key_type  = "ec256"
  cert_file = "/etc/ssl/example/www.fullchain.pem"
  key_file  = "/etc/ssl/example/www.key.pem"
  host      = host.server
}

certificate "mail" {
  domains   = ["mail.example.test"]
  issuer    = local_ca.example
  cert_file = "/etc/ssl/example/mail.fullchain.pem"
  key_file  = "/etc/ssl/example/mail.key.pem"
  host      = host.server
}

tlsa "www_https" {
  zone          = dns_zone.example
  port          = 443
  protocol      = "tcp"
  hostname      = "www.example.test"
  certificate   = certificate.www
  ttl           = 300
  rollover_wait = "10m"
}

tlsa "mail_smtp" {
  zone        = dns_zone.example
  name        = "_25._tcp.mail"
  certificate = certificate.mail
  ttl         = 300
}

tls_policy "intermediate" {
  profile = "mozilla-intermediate"
}

vhost "https" {
  server         = "nginx"
  config_file    = "/etc/nginx/sites-enabled/example-https.conf"
  listen         = "192.0.2.10:443"
  server_names   = ["example.test", "www.example.test"]
  certificate    = certificate.www
  tls_policy     = tls_policy.intermediate
  root           = "/var/www/example"
  test_command   = "" # no nginx runs in the quickstart
  reload_command = ""
  host           = host.server

  hsts {
    max_age            = 63072000
    include_subdomains = true
    preload            = true
  }
}

vhost "http" {
  server         = "nginx"
  config_file    = "/etc/nginx/sites-enabled/example-http.conf"
  listen         = "192.0.2.10:80"
  server_names   = ["example.test", "www.example.test"]
  redirect_https = true
  hsts_from      = vhost.https
  acme_webroot   = "/var/www/acme"
  test_command   = ""
  reload_command = ""
  host           = host.server
}

apt_key "example" {
  fingerprint = "734608F7CD36DD4E720A4C708BF26C0845ABC4F2"
  url         = "file:keys/example-archive.asc"
  keyring     = "/etc/apt/keyrings/example.gpg"
  host        = host.server
}

apt_source "example" {
  file       = "/etc/apt/sources.list.d/example.sources"
  uris       = ["https://apt.example.test/debian"]
  suites     = ["stable"]
  components = ["main"]
  signed_by  = apt_key.example
  host       = host.server
}
