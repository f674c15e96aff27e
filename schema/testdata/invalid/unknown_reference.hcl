local_ca "main" {}

certificate "www" {
  domains   = ["www.example.test"]
  issuer    = local_ca.mian
  cert_file = "www.pem"
  key_file  = "www.key"
}
