local_ca "main" {}

certificate "www" {
  domains   = ["www.example.test"]
  issuer    = "local_ca.main"
  cert_file = "www.pem"
  key_file  = "www.key"
}
