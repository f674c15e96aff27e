local_ca "main" {}

certificate "www" {
  domains   = ["www.example.test"]
  issuer    = local_ca.main
  key_type  = "dsa1024"
  cert_file = "www.pem"
  key_file  = "www.key"
}
