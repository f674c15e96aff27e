# DANE TLSA records in a zone behind PowerDNS Authoritative's HTTP API: the
# zone read with one GET, each change set one PATCH, and the gate of
# tlsa-before-cert counting from when PowerDNS serves the new records
# signed. start-pdns.sh starts PowerDNS on 127.0.0.1:5300 (DNS) and
# 127.0.0.1:8081 (API) and writes the API key to pdns.key.

dns_zone "example" {
  name           = "example.test"
  nameservers    = ["127.0.0.1:5300"]
  require_dnssec = true

  api {
    type       = "powerdns"
    url        = "http://127.0.0.1:8081"
    token_file = "pdns.key"
  }
}

local_ca "example" {
  common_name = "Example DANE CA"
}

certificate "www" {
  domains   = ["www.example.test"]
  issuer    = local_ca.example
  cert_file = "out/www.fullchain.pem"
  key_file  = "out/www.key.pem"
}

tlsa "www_https" {
  zone          = dns_zone.example
  port          = 443
  protocol      = "tcp"
  hostname      = "www.example.test"
  certificate   = certificate.www
  ttl           = 60
  rollover_wait = "2m"
}
