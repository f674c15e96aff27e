# APT signing keys the modern way: each key pinned by its full fingerprint,
# alone in its own keyring under /etc/apt/keyrings, named by its source with
# Signed-By, installed before the source, refreshed before it expires, and
# taken out of the global trusted.gpg(.d) once the new setup is in place.
#
# Files land under ./out (the system's "/"). The key comes from a file here;
# real configurations use url = "https://…" or keyserver = "https://keys.openpgp.org".

host "server" {
  root = "out"
}

apt_key "example" {
  fingerprint  = "734608F7CD36DD4E720A4C708BF26C0845ABC4F2"
  url          = "file:keys/example-archive.asc"
  keyring      = "/etc/apt/keyrings/example.gpg"
  renew_before = "30d"
  host         = host.server
}

apt_source "example" {
  file       = "/etc/apt/sources.list.d/example.sources"
  uris       = ["https://apt.example.test/debian"]
  suites     = ["stable"]
  components = ["main"]
  signed_by  = apt_key.example
  host       = host.server
}
