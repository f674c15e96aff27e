local_ca "ca" {
  for_each = toset(["a", "b"])
}
certificate "c" {
  domains   = ["x.example.test"]
  issuer    = local_ca.ca
  cert_file = "c.pem"
  key_file  = "c.key"
}
