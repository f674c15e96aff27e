local_ca "main" {}
certificate "c" {
  for_each  = toset(local_ca.main.names)
  domains   = ["x.example.test"]
  issuer    = local_ca.main
  cert_file = "c.pem"
  key_file  = "c.key"
}
