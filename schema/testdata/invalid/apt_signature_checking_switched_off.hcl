# Each value would add a deb822 field, Trusted: yes among them.
apt_key "vendor" {
  fingerprint = "734608F7CD36DD4E720A4C708BF26C0845ABC4F2"
  url         = "https://vendor.example.test/key.asc"
}

apt_source "vendor" {
  types      = ["deb\nTrusted: yes"]
  uris       = ["https://vendor.example.test/debian\nTrusted: yes", "vendor.example.test/debian"]
  suites     = ["stable\nTrusted: yes"]
  components = ["main contrib"]
  signed_by  = apt_key.vendor
}
