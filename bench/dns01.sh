#!/usr/bin/env bash
# 20 certificates over dns-01 through real BIND (RFC 2136 + TSIG) on a local
# Pebble (BenchmarkDNS01x20 in cmd/trustform): trustform in one apply, against
# certbot with its rfc2136 plugin (--dns-rfc2136-propagation-seconds 1) and
# the lego CLI, each one certificate after another, the three interleaved in
# every iteration. Installs the anchors when missing: Debian's certbot and
# python3-certbot-dns-rfc2136, and the lego CLI of the version trustform
# uses. Reports the medians (BENCHTIME runs, default 5) and the ratios,
# ratio-vs-certbot (goal <= 0.1) and ratio-vs-lego.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
command -v certbot >/dev/null || missing+=(certbot)
python3 -c 'import certbot_dns_rfc2136' 2>/dev/null || missing+=(python3-certbot-dns-rfc2136)
if [ ${#missing[@]} -gt 0 ]; then
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    trap '$sudo rm -f $policy' EXIT
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
export PATH="$PATH:$(go env GOPATH)/bin"
if ! command -v lego >/dev/null; then
  # Built in a scratch module pinned to trustform's lego version (the module
  # proxy does not list lego's versions, which `go install pkg@v` asks for).
  version=$(go list -m -f '{{.Version}}' github.com/go-acme/lego/v4)
  tmp=$(mktemp -d)
  printf 'module legobuild\n\ngo 1.26\n\nrequire github.com/go-acme/lego/v4 %s\n' "$version" > "$tmp/go.mod"
  printf 'package main\n\nimport _ "github.com/go-acme/lego/v4/cmd/lego"\n' > "$tmp/tools.go"
  (cd "$tmp" && GOFLAGS=-mod=mod go mod tidy && GOFLAGS=-mod=mod go build -o "$(go env GOPATH)/bin/lego" github.com/go-acme/lego/v4/cmd/lego)
  rm -rf "$tmp"
fi
CI=true go test -v -run '^$' -bench 'BenchmarkDNS01x20/interleaved' -benchtime "${BENCHTIME:-5x}" -timeout 120m ./cmd/trustform
