# Three Apache vhosts on one IP:port, one certificate, one TLS policy.
# Browsers reuse one HTTP/2 connection for names that share an address and a
# certificate; Apache answers "421 Misdirected Request" when the vhost of the
# second name has other TLS settings than the one of the handshake. Sharing
# tls_policy.shared keeps them equal, and cipher-consistency refuses a
# configuration where they differ. Files land under ./out.

host "web" {
  root = "out"
}

local_ca "example" {}

certificate "shared" {
  domains   = ["example.test", "www.example.test", "shop.example.test"]
  issuer    = local_ca.example
  cert_file = "/etc/ssl/example/fullchain.pem"
  key_file  = "/etc/ssl/example/privkey.pem"
  host      = host.web
}

tls_policy "shared" {
  profile = "mozilla-intermediate"
}

vhost "apex" {
  server         = "apache"
  config_file    = "/etc/apache2/sites-enabled/apex.conf"
  listen         = "192.0.2.10:443"
  server_names   = ["example.test"]
  certificate    = certificate.shared
  tls_policy     = tls_policy.shared
  root           = "/var/www/apex"
  test_command   = ""
  reload_command = ""
  host           = host.web
}

vhost "www" {
  server         = "apache"
  config_file    = "/etc/apache2/sites-enabled/www.conf"
  listen         = "192.0.2.10:443"
  server_names   = ["www.example.test"]
  certificate    = certificate.shared
  tls_policy     = tls_policy.shared
  root           = "/var/www/www"
  test_command   = ""
  reload_command = ""
  host           = host.web
}

vhost "shop" {
  server         = "apache"
  config_file    = "/etc/apache2/sites-enabled/shop.conf"
  listen         = "192.0.2.10:443"
  server_names   = ["shop.example.test"]
  certificate    = certificate.shared
  tls_policy     = tls_policy.shared
  root           = "/var/www/shop"
  test_command   = ""
  reload_command = ""
  host           = host.web
}
