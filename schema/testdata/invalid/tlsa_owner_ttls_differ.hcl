dns_zone "example" {
  name      = "example.test"
  zone_file = "example.test.zone"
}

local_ca "main" {}

certificate "www" {
  domains   = ["www.example.test"]
  issuer    = local_ca.main
  cert_file = "www.pem"
  key_file  = "www.key"
}

tlsa "www_ee" {
  zone        = dns_zone.example
  name        = "_443._tcp.www"
  certificate = certificate.www
  ttl         = 300
}

tlsa "www_ta" {
  zone        = dns_zone.example
  name        = "_443._tcp.www"
  certificate = certificate.www
  usage       = 2
  ttl         = 600
}
