# HSTS done right on nginx: the HTTPS vhost sends the header on every
# response (errors and redirects too), the HTTP vhost redirects to HTTPS on
# the same host with the same header, and the ACME challenge is answered
# over HTTP before the redirect. Files land under ./out; to manage a running
# nginx, drop root and the empty commands (defaults: nginx -t, nginx -s reload).

host "web" {
  root = "out"
}

local_ca "example" {}

certificate "site" {
  domains   = ["example.test", "www.example.test"]
  issuer    = local_ca.example
  cert_file = "/etc/ssl/example/fullchain.pem"
  key_file  = "/etc/ssl/example/privkey.pem"
  host      = host.web
}

tls_policy "modern" {
  profile = "mozilla-modern"
}

vhost "https" {
  server         = "nginx"
  config_file    = "/etc/nginx/sites-enabled/example-https.conf"
  listen         = "443"
  server_names   = ["example.test", "www.example.test"]
  certificate    = certificate.site
  tls_policy     = tls_policy.modern
  root           = "/var/www/example"
  test_command   = ""
  reload_command = ""
  host           = host.web

  hsts {
    max_age            = 63072000
    include_subdomains = true
    preload            = true
  }
}

vhost "http" {
  server         = "nginx"
  config_file    = "/etc/nginx/sites-enabled/example-http.conf"
  listen         = "80"
  server_names   = ["example.test", "www.example.test"]
  redirect_https = true
  hsts_from      = vhost.https
  acme_webroot   = "/var/www/acme"
  test_command   = ""
  reload_command = ""
  host           = host.web
}
