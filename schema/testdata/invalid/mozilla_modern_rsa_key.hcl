# mozilla-modern serves ECDSA certificates only.
local_ca "ca" {}

certificate "www" {
  domains   = ["www.example.test"]
  issuer    = local_ca.ca
  key_type  = "rsa2048"
  cert_file = "www.pem"
  key_file  = "www.key"
}

tls_policy "modern" {
  profile = "mozilla-modern"
}

vhost "https" {
  server       = "nginx"
  config_file  = "https.conf"
  listen       = "443"
  server_names = ["www.example.test"]
  certificate  = certificate.www
  tls_policy   = tls_policy.modern
}
