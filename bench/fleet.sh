#!/usr/bin/env bash
# Writes a generated fleet configuration on the embedded default (no
# server: a zone file, a local CA, files under out/): bench/fleet.sh SHAPE
# HOSTS DIR. Every shape has five resources per host, so HOSTS=2000 is a
# 10,000-resource configuration:
#   web      a certificate, TLSA for HTTPS and SMTP, an HTTPS vhost with
#            HSTS and an HTTP vhost redirecting to it
#   tlsa     a certificate pinned by four TLSA RRsets
#   mail     a certificate, a mail service (loopback endpoints that refuse
#            connections), TLSA for SMTP and submission beside an MX, a CAA
#   apt      an APT key and source per host, a certificate and two TLSA
#   foreach  the web shape written once, for_each over a map of the hosts
# bench/plan10k.sh plans each shape against bare parsing of the same files.
set -euo pipefail
shape=$1 hosts=$2 dir=$3
mkdir -p "$dir"
cd "$(dirname "$0")/.."
cp examples/quickstart/keys/example-archive.asc "$dir/archive.asc"
{
  printf '$ORIGIN example.test.\n@ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 3600\n@ 3600 IN NS ns1\nns1 3600 IN A 192.0.2.1\n'
  if [ "$shape" = mail ]; then
    for ((i = 0; i < hosts; i++)); do printf '@ 3600 IN MX 10 mx.h%d\n' "$i"; done
  fi
} > "$dir/zone"
header() {
  printf 'dns_zone "big" {\n  name      = "example.test"\n  zone_file = "zone"\n}\nlocal_ca "ca" {}\ntls_policy "p" {\n  profile = "mozilla-intermediate"\n}\n'
}
host() { # host i
  printf 'host "h%d" {\n  root = "out/h%d"\n}\n' "$1" "$1"
}
certificate() { # certificate i
  printf 'certificate "h%d" {\n  domains   = ["h%d.example.test", "www.h%d.example.test"]\n  issuer    = local_ca.ca\n  cert_file = "/etc/ssl/site.pem"\n  key_file  = "/etc/ssl/site.key"\n  host      = host.h%d\n}\n' "$1" "$1" "$1" "$1"
}
tlsa() { # tlsa i port name
  printf 'tlsa "h%d_%s" {\n  zone        = dns_zone.big\n  port        = %d\n  hostname    = "%s.h%d.example.test"\n  certificate = certificate.h%d\n}\n' "$1" "$2" "$2" "$3" "$1" "$1"
}
vhosts() { # vhosts i
  local ip=$(($1 % 250 + 1))
  cat <<HCL
vhost "h$1_https" {
  server         = "nginx"
  config_file    = "/etc/nginx/sites-enabled/https.conf"
  listen         = "192.0.2.$ip:443"
  server_names   = ["h$1.example.test", "www.h$1.example.test"]
  certificate    = certificate.h$1
  tls_policy     = tls_policy.p
  host           = host.h$1
  test_command   = ""
  reload_command = ""
  hsts {
    max_age            = 63072000
    include_subdomains = true
  }
}
vhost "h$1_http" {
  server         = "nginx"
  config_file    = "/etc/nginx/sites-enabled/http.conf"
  listen         = "192.0.2.$ip:80"
  server_names   = ["h$1.example.test", "www.h$1.example.test"]
  redirect_https = true
  hsts_from      = vhost.h$1_https
  acme_webroot   = "/var/www/acme"
  host           = host.h$1
  test_command   = ""
  reload_command = ""
}
HCL
}
{
  header
  case $shape in
  foreach)
    printf 'variable "hosts" {\n  type = map(number)\n  default = {\n'
    for ((i = 0; i < hosts; i++)); do printf '    h%d = %d\n' "$i" $((i % 250 + 1)); done
    printf '  }\n}\n'
    cat <<'HCL'
host "h" {
  for_each = var.hosts
  root     = "out/${each.key}"
}
certificate "h" {
  for_each  = var.hosts
  domains   = ["${each.key}.example.test", "www.${each.key}.example.test"]
  issuer    = local_ca.ca
  cert_file = "/etc/ssl/site.pem"
  key_file  = "/etc/ssl/site.key"
  host      = host.h[each.key]
}
tlsa "https" {
  for_each    = var.hosts
  zone        = dns_zone.big
  port        = 443
  hostname    = "www.${each.key}.example.test"
  certificate = certificate.h[each.key]
}
tlsa "smtp" {
  for_each    = var.hosts
  zone        = dns_zone.big
  port        = 25
  hostname    = "${each.key}.example.test"
  certificate = certificate.h[each.key]
}
vhost "https" {
  for_each       = var.hosts
  server         = "nginx"
  config_file    = "/etc/nginx/sites-enabled/https.conf"
  listen         = "192.0.2.${each.value}:443"
  server_names   = ["${each.key}.example.test", "www.${each.key}.example.test"]
  certificate    = certificate.h[each.key]
  tls_policy     = tls_policy.p
  host           = host.h[each.key]
  test_command   = ""
  reload_command = ""
  hsts {
    max_age            = 63072000
    include_subdomains = true
  }
}
vhost "http" {
  for_each       = var.hosts
  server         = "nginx"
  config_file    = "/etc/nginx/sites-enabled/http.conf"
  listen         = "192.0.2.${each.value}:80"
  server_names   = ["${each.key}.example.test", "www.${each.key}.example.test"]
  redirect_https = true
  hsts_from      = vhost.https[each.key]
  acme_webroot   = "/var/www/acme"
  host           = host.h[each.key]
  test_command   = ""
  reload_command = ""
}
HCL
    ;;
  *)
    for ((i = 0; i < hosts; i++)); do
      host "$i"
      certificate "$i"
      case $shape in
      web)
        tlsa "$i" 443 www
        tlsa "$i" 25 mx
        vhosts "$i"
        ;;
      tlsa)
        for p in 443 25 587 993; do tlsa "$i" "$p" www; done
        ;;
      mail)
        printf 'service "h%d" {\n  certificate    = certificate.h%d\n  endpoints      = ["smtp://127.0.0.1:%d", "submission://127.0.0.1:%d"]\n  host           = host.h%d\n  test_command   = ""\n  reload_command = ""\n}\n' "$i" "$i" $((20000 + 2 * i)) $((20001 + 2 * i)) "$i"
        tlsa "$i" 25 mx
        tlsa "$i" 587 mx
        printf 'caa "h%d" {\n  zone    = dns_zone.big\n  name    = "h%d"\n  issuers = ["letsencrypt.org"]\n}\n' "$i" "$i"
        ;;
      apt)
        printf 'apt_key "h%d" {\n  fingerprint = "734608F7CD36DD4E720A4C708BF26C0845ABC4F2"\n  url         = "file:archive.asc"\n  keyring     = "/etc/apt/keyrings/example.gpg"\n  host        = host.h%d\n}\n' "$i" "$i"
        printf 'apt_source "h%d" {\n  file       = "/etc/apt/sources.list.d/example.sources"\n  uris       = ["https://apt.example.test/debian"]\n  suites     = ["stable"]\n  components = ["main"]\n  signed_by  = apt_key.h%d\n  host       = host.h%d\n}\n' "$i" "$i" "$i"
        tlsa "$i" 443 www
        tlsa "$i" 25 mx
        ;;
      *)
        echo "unknown shape $shape: web, tlsa, mail, apt or foreach" >&2
        exit 2
        ;;
      esac
    done
    ;;
  esac
} > "$dir/main.hcl"
