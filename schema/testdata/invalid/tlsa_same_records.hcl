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

tlsa "www" {
  zone        = dns_zone.example
  name        = "_443._tcp.www"
  certificate = certificate.www
}

tlsa "www_again" {
  zone        = dns_zone.example
  port        = 443
  hostname    = "www.example.test"
  certificate = certificate.www
}
