#!/usr/bin/env bash
# trustform plan against bare HCL parsing of the same files (bench/hclparse,
# the floor: trustform parses first), as processes: wall time and peak RSS
# (GNU time), the median of RUNS runs each, on generated configurations of
# 200 and 2,000 hosts, each with a certificate, two TLSA records and two
# vhosts: 1,000 and 10,000 resources on the embedded default. Prints the
# ratios (goals at 10,000: <= 2x the time, <= 1.1x the peak memory) and how
# both grow from 1k to 10k. The Go benchmarks in engine/bench_test.go
# measure the same phases in-process (go test -bench 10k ./engine).
# Usage: bench/plan10k.sh [HOSTS...]   (default: 200 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/time ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends time >/dev/null
fi
runs=${RUNS:-5}
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
go build -o "$work/trustform" ./cmd/trustform
go build -o "$work/hclparse" ./bench/hclparse

# median CMD...: the median wall time (s) and peak RSS (KiB) of RUNS runs of CMD.
median() {
  local i mid=$(((runs + 1) / 2))
  : >"$work/runs"
  for ((i = 0; i < runs; i++)); do
    /usr/bin/time -o "$work/time" -f "%e %M" "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }
    cat "$work/time" >>"$work/runs"
  done
  echo "$(cut -d' ' -f1 "$work/runs" | sort -n | sed -n "${mid}p") $(cut -d' ' -f2 "$work/runs" | sort -n | sed -n "${mid}p")"
}

# generate HOSTS DIR: the configuration of HOSTS hosts in DIR.
generate() {
  local hosts=$1 dir=$2 i ip
  mkdir -p "$dir"
  printf '$ORIGIN example.test.\n@ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 3600\n@ 3600 IN NS ns1\n' > "$dir/zone"
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
} > "$dir/main.hcl"
}

printf '%9s %9s %10s %9s %10s %7s %7s\n' resources "parse s" "parse MiB" "plan s" "plan MiB" "time x" "mem x" | tee "$work/table"
for hosts in "${@:-200 2000}"; do
  for h in $hosts; do
    generate "$h" "$work/h$h"
    parse=$(median "$work/hclparse" "$work/h$h")
    plan=$(median "$work/trustform" -chdir="$work/h$h" plan -no-color)
    read -r pt pm <<<"$parse"
    read -r tt tm <<<"$plan"
    awk -v r=$((h * 5)) -v pt="$pt" -v pm="$pm" -v tt="$tt" -v tm="$tm" 'BEGIN {
      printf "%9d %9.2f %10.1f %9.2f %10.1f %7.2f %7.2f\n", r, pt, pm / 1024, tt, tm / 1024, tt / pt, tm / pm }'
  done
done | tee -a "$work/table"
awk 'NR > 1 { r[NR] = $1; t[NR] = $4; m[NR] = $5; tx[NR] = $6; mx[NR] = $7; n = NR } END {
  printf "plan of %d resources: %.2fx the time (goal <= 2) and %.2fx the peak memory (goal <= 1.1) of parsing the same files\n", r[n], tx[n], mx[n]
  if (n > 2) printf "from %d to %d resources (x%.0f): plan time x%.1f, peak memory x%.1f\n", r[2], r[n], r[n] / r[2], t[n] / t[2], m[n] / m[2]
}' "$work/table"
