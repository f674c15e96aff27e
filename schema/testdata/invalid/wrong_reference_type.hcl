tls_policy "modern" {
  profile = "mozilla-modern"
}

certificate "www" {
  domains   = ["www.example.test"]
  issuer    = tls_policy.modern
  cert_file = "www.pem"
  key_file  = "www.key"
}
