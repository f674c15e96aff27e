apt_key "vendor" {
  fingerprint = "8B48AD6246925553"
  url         = "https://vendor.example.test/key.asc"
}
