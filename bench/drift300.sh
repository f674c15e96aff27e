#!/usr/bin/env bash
# The scheduled drift check (plan -refresh-only) of 300 TLS endpoints on
# real nginx and their 300 TLSA RRsets on real BIND (BenchmarkDriftCheck300
# in cmd/trustform), against `openssl s_client` over the same endpoints with
# xargs -P 10, measured in the same run. Prints the ratio (goal: <= 0.2) and
# the plan's peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(CI=true go test -tags trustformtest -run '^$' -bench 'BenchmarkDriftCheck300' -benchtime "${BENCHTIME:-5x}" ./cmd/trustform | tee /dev/stderr)
awk '/BenchmarkDriftCheck300\/trustform-drift-check/ { tf = $3; rss = $5 }
     /BenchmarkDriftCheck300\/openssl-s_client-xargs/ { ossl = $3 }
     END { printf "drift check %.3f s, openssl loop %.3f s, ratio %.3f, peak RSS %s MiB\n", tf / 1e9, ossl / 1e9, tf / ossl, rss }' <<<"$out"
