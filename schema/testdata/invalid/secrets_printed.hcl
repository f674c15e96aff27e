# Files that trustform would show in a plan and overwrite.
dns_zone "z" {
  name   = "example.test"
  server = "127.0.0.1:53"
  tsig {
    name        = "update-key"
    secret_file = "tsig.secret"
  }
}

local_ca "ca" {}

certificate "www" {
  domains   = ["example.test"]
  issuer    = local_ca.ca
  cert_file = "tsig.secret"
  key_file  = ".trustform/local_ca/ca.key"
}

vhost "http" {
  server       = "nginx"
  config_file  = "/etc/nginx/site.conf"
  listen       = "80"
  server_names = ["example.test"]
}

vhost "other" {
  server       = "nginx"
  config_file  = "/etc/nginx/site.conf"
  listen       = "8080"
  server_names = ["example.test"]
}
