local_ca "main" {}

certificate "www" {
  domains   = ["www.example.test"]
  issuer    = local_ca.main
  cert_file = "www.pem"
  key_file  = "www.key"
}

vhost "https" {
  server       = "nginx"
  config_file  = "https.conf"
  listen       = "443"
  server_names = ["www.example.test"]
  certificate  = certificate.www

  hsts {
    max_age            = 31536000
    include_subdomains = false
    preload            = true
  }
}
