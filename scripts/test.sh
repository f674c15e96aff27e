#!/usr/bin/env bash
# The test command (README.md): installs what the tests need, then runs them.
#
# Today every test runs on the embedded default (zone files, the local CA,
# rendered vhost files), so Go is all that is needed. The integration tests of
# later work add their servers (BIND9, Pebble, nginx, apache2, apt-utils) here,
# installed when missing; with CI=true a missing component fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null 2>&1; then
  echo "scripts/test.sh: Go is required (https://go.dev/dl/)" >&2
  exit 1
fi

unformatted=$(gofmt -l . | grep -v '^vendor/' || true)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./...
go build ./...
go test -race -count=1 "$@" ./...
