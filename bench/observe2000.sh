#!/usr/bin/env bash
# Plans of TLSA fleets on real BIND (primary and secondary), each server
# behind a forwarder adding 20 ms per answer, interleaved with their anchor,
# `dig +dnssec -f` asking the same questions one after another (medians of
# BENCHTIME runs, default 5):
#   BenchmarkPlanTLSA2000: 2,000 TLSA RRsets of one certificate, by zone
#     transfer and with the transfer refused (goal by transfer: <= 0.01x);
#   BenchmarkPlanMixed1000: the plan after apply of 1,000 certificates,
#     each pinned by two TLSA RRsets (HTTPS, SMTP) in a signed zone with
#     require_dnssec and an MX (goal: <= 0.02x).
# Prints each plan's median, dig's, and their ratio (ratio-vs-dig).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v dig >/dev/null || { echo "dig is missing: apt-get install bind9-dnsutils" >&2; exit 1; }
CI=true go test -v -run '^$' -bench "${BENCH:-BenchmarkPlanTLSA2000|BenchmarkPlanMixed1000}" -benchtime "${BENCHTIME:-5x}" -timeout 120m ./engine |
  tee /dev/stderr | awk '/ratio-vs-dig/ {
    for (i = 1; i <= NF; i++) { if ($(i+1) == "plan-s") p = $i; if ($(i+1) == "dig-s") d = $i; if ($(i+1) == "ratio-vs-dig") r = $i }
    printf "%s: plan %.3f s, dig %.1f s, ratio %.4f\n", $1, p, d, r }'
