#!/usr/bin/env bash
# Times `trustform validate` and `trustform plan` as processes (wall time and
# peak RSS, via GNU time) on a generated configuration of 2,000 hosts, each
# with a certificate, two TLSA records and two vhosts: 10,000 resources on
# the embedded default. The Go benchmarks in engine/bench_test.go measure the
# same phases in-process, next to plain HCL parsing.
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-2000}
dir=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
go build -o "$dir/trustform" ./cmd/trustform
mkdir "$dir/config"
printf '$ORIGIN example.test.\n@ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 3600\n@ 3600 IN NS ns1\n' > "$dir/config/zone"
{
  printf 'dns_zone "big" {\n  name      = "example.test"\n  zone_file = "zone"\n}\nlocal_ca "ca" {}\ntls_policy "p" {\n  profile = "mozilla-intermediate"\n}\n'
  for ((i = 0; i < hosts; i++)); do
    ip=$((i % 250 + 1))
    cat <<HCL
host "h$i" {
  root = "out/h$i"
}
certificate "h$i" {
  domains   = ["h$i.example.test", "www.h$i.example.test"]
  issuer    = local_ca.ca
  cert_file = "/etc/ssl/site.pem"
  key_file  = "/etc/ssl/site.key"
  host      = host.h$i
}
tlsa "h${i}_https" {
  zone        = dns_zone.big
  port        = 443
  hostname    = "www.h$i.example.test"
  certificate = certificate.h$i
}
tlsa "h${i}_smtp" {
  zone        = dns_zone.big
  port        = 25
  hostname    = "h$i.example.test"
  certificate = certificate.h$i
}
vhost "h${i}_https" {
  server         = "nginx"
  config_file    = "/etc/nginx/sites-enabled/https.conf"
  listen         = "192.0.2.$ip:443"
  server_names   = ["h$i.example.test", "www.h$i.example.test"]
  certificate    = certificate.h$i
  tls_policy     = tls_policy.p
  host           = host.h$i
  test_command   = ""
  reload_command = ""
  hsts {
    max_age            = 63072000
    include_subdomains = true
    preload            = false # preload needs the apex served with it: not part of this fleet
  }
}
vhost "h${i}_http" {
  server         = "nginx"
  config_file    = "/etc/nginx/sites-enabled/http.conf"
  listen         = "192.0.2.$ip:80"
  server_names   = ["h$i.example.test", "www.h$i.example.test"]
  redirect_https = true
  hsts_from      = vhost.h${i}_https
  acme_webroot   = "/var/www/acme"
  host           = host.h$i
  test_command   = ""
  reload_command = ""
}
HCL
  done
} > "$dir/config/main.hcl"
echo "configuration: $hosts hosts, $(grep -c '^[a-z_]* "' "$dir/config/main.hcl") blocks, $(du -h "$dir/config/main.hcl" | cut -f1)"
for cmd in validate "plan -no-color"; do
  /usr/bin/time -f "trustform $cmd: %e s wall, %M KiB peak RSS" "$dir/trustform" -chdir="$dir/config" $cmd > /dev/null
done
