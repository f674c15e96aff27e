apt_key "vendor" {
  fingerprint = "not-a-fingerprint"
  url         = "https://vendor.example.test/key.asc"
}
