#!/usr/bin/env bash
# A plan of 2,000 TLSA RRsets on real BIND (primary and secondary), each
# server behind a forwarder adding 20 ms per answer (BenchmarkPlanTLSA2000
# in engine: read the configuration, observe, diff, order), by zone transfer and with the
# transfer refused, against `dig +dnssec -f` asking the same questions one
# after another. Prints the ratios (goal for the default path: <= 0.02).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v dig >/dev/null || { echo "dig is missing: apt-get install bind9-dnsutils" >&2; exit 1; }
out=$(CI=true go test -run '^$' -bench 'BenchmarkPlanTLSA2000' -benchtime "${BENCHTIME:-3x}" ./engine | tee /dev/stderr)
awk '/^BenchmarkPlanTLSA2000\// {
  split($1, p, "/"); ns = $3; dig = $5 * 1e6
  printf "%s: %.3f s, dig %.1f s, ratio %.4f\n", p[3], ns / 1e9, dig / 1e9, ns / dig
}' <<<"$out"
