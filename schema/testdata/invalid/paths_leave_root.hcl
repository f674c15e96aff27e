# A .. component climbs out of the host's root.
host "h" {
  root = "out"
}

apt_key "k" {
  fingerprint = "734608F7CD36DD4E720A4C708BF26C0845ABC4F2"
  url         = "key.asc"
  keyring     = "/etc/../../../../../../tmp/x.gpg"
  host        = host.h
}
