# A DANE key rollover across BIND (primary 127.0.0.1:5353, secondary :5354),
# Pebble (ACME on 127.0.0.1:14000) and nginx: HTTPS on 8443 and a second TLS
# service on 8465 (standing in for SMTP submission), both pinned by 3 1 1
# TLSA records, with short TTLs and a 10-second rollover_wait so the whole
# rollover takes seconds. See README.md for how to start the servers.

dns_zone "example" {
  name           = "example.test"
  server         = "127.0.0.1:5353"
  nameservers    = ["127.0.0.1:5353", "127.0.0.1:5354"]
  require_dnssec = true

  tsig {
    name        = "trustform-key"
    algorithm   = "hmac-sha256"
    secret_file = "tsig.secret"
  }
}

acme_account "pebble" {
  directory = "https://127.0.0.1:14000/dir"
  email     = "hostmaster@example.test"
  ca_roots  = ["pebble-roots.pem"]
  # Registration agrees to the CA's terms (the plan names them).
  terms_of_service_agreed = true
}

certificate "www" {
  domains   = ["www.example.test"]
  issuer    = acme_account.pebble
  challenge = "dns-01"
  cert_file = "out/www.fullchain.pem"
  key_file  = "out/www.key.pem"
}

tlsa "https" {
  zone          = dns_zone.example
  port          = 8443
  protocol      = "tcp"
  hostname      = "www.example.test"
  certificate   = certificate.www
  ttl           = 5
  rollover_wait = "10s"
}

tlsa "submission" {
  zone          = dns_zone.example
  port          = 8465
  protocol      = "tcp"
  hostname      = "www.example.test"
  certificate   = certificate.www
  ttl           = 5
  rollover_wait = "10s"
}

tls_policy "intermediate" {
  profile = "mozilla-intermediate"
}

vhost "https" {
  server         = "nginx"
  config_file    = "out/nginx/https.conf"
  listen         = "127.0.0.1:8443"
  server_names   = ["www.example.test"]
  certificate    = certificate.www
  tls_policy     = tls_policy.intermediate
  test_command   = "nginx -t -p out/nginx -c nginx.conf"
  reload_command = "nginx -s reload -p out/nginx -c nginx.conf"
}

vhost "submission" {
  server         = "nginx"
  config_file    = "out/nginx/submission.conf"
  listen         = "127.0.0.1:8465"
  server_names   = ["www.example.test"]
  certificate    = certificate.www
  tls_policy     = tls_policy.intermediate
  test_command   = "nginx -t -p out/nginx -c nginx.conf"
  reload_command = "nginx -s reload -p out/nginx -c nginx.conf"
}
