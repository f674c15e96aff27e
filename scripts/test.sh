#!/usr/bin/env bash
# The test command (README.md): installs what the tests need, then runs them.
#
# The integration tests talk to real servers, started by the tests themselves
# on loopback ports in temp directories: BIND9 (named) for DNS, a signed APT
# repository (gnupg, apt-ftparchive) for the real apt-get, nginx and apache2
# for vhosts, Pebble for ACME, OpenSSH's sshd (and sudo) for remote hosts,
# PostgreSQL (and pgbouncer in front of it) for shared state, PowerDNS
# Authoritative (its HTTP API, a SQLite database) for zones behind an API,
# Knot DNS as a second RFC 2136 server, and Prometheus with its node
# exporter (and promtool) for the metrics and alert rules, and headless
# Chromium for the status page.
# This script
# installs them from Debian's packages when missing. With CI=true a test whose
# server is missing fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
cleanup=()
trap 'for c in "${cleanup[@]}"; do $c; done' EXIT

if ! command -v go >/dev/null 2>&1; then
  echo "scripts/test.sh: Go is required (https://go.dev/dl/)" >&2
  exit 1
fi

# Debian packages the integration tests need, by the file that shows each is there.
declare -A packages=(
  [/usr/sbin/named]=bind9
  [/usr/bin/named-checkconf]=bind9-utils
  [/usr/bin/dig]=bind9-dnsutils
  [/usr/bin/gpg]=gnupg
  [/usr/bin/apt-ftparchive]=apt-utils
  [/usr/sbin/nginx]=nginx
  [/usr/sbin/apache2]=apache2
  [/usr/sbin/sshd]=openssh-server
  [/usr/bin/ssh]=openssh-client
  [/usr/bin/sudo]=sudo
  [/usr/bin/pkill]=procps
  [/usr/sbin/postfix]=postfix
  [/usr/sbin/dovecot]=dovecot-imapd
  [/usr/bin/openssl]=openssl
  [/usr/sbin/pgbouncer]=pgbouncer
  [/usr/sbin/pdns_server]=pdns-server
  [/usr/lib/x86_64-linux-gnu/pdns/libgsqlite3backend.so]=pdns-backend-sqlite3
  [/usr/bin/sqlite3]=sqlite3
  [/usr/sbin/knotd]=knot
  [/usr/bin/prometheus]=prometheus
  [/usr/bin/prometheus-node-exporter]=prometheus-node-exporter
  [/usr/bin/chromium]=chromium
  [/usr/bin/certbot]=certbot
  [/usr/lib/python3/dist-packages/certbot_dns_rfc2136/__init__.py]=python3-certbot-dns-rfc2136
)
missing=()
for file in "${!packages[@]}"; do
  [ -e "$file" ] || missing+=("${packages[$file]}")
done
# PostgreSQL for the shared state (its cluster is not started: the tests
# run their own with initdb).
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "scripts/test.sh: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # The packages' own services must not start: the tests run their own
  # instances on loopback ports (policy-rc.d 101 = "action forbidden").
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    cleanup+=("$sudo rm -f $policy")
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The SSH tests' unprivileged login user, with passwordless sudo, for
# become = true (only where this script may create users).
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -n"
if ! id trustform-test >/dev/null 2>&1 && { [ -z "$sudo" ] || $sudo true 2>/dev/null; }; then
  echo "scripts/test.sh: creating the user trustform-test (sudo without password) for the SSH become tests"
  # No password, but not locked: sshd without PAM refuses locked accounts.
  $sudo useradd --system --create-home --shell /bin/sh --password '*' trustform-test
  echo 'trustform-test ALL=(root) NOPASSWD: ALL' | $sudo tee /etc/sudoers.d/trustform-test >/dev/null
  $sudo chmod 440 /etc/sudoers.d/trustform-test
fi

# Pebble, Let's Encrypt's ACME test server, and its DNS helper.
gobin=$(go env GOPATH)/bin
for tool in pebble pebble-challtestsrv; do
  if [ ! -x "$gobin/$tool" ] && ! command -v "$tool" >/dev/null 2>&1; then
    echo "scripts/test.sh: installing $tool"
    go install "github.com/letsencrypt/pebble/v2/cmd/$tool@v2.10.1"
  fi
done

unformatted=$(gofmt -l . | grep -v '^vendor/' || true)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./...
go vet -tags trustformtest ./cmd/trustform # the test hooks, in the binary the tests build
go build ./...
# One line per package as it finishes, failing tests' output, a closing count.
progress=$(mktemp)
cleanup+=("rm -f $progress")
go build -o "$progress" ./internal/testprogress
# One package (cmd/trustform: real servers, one after another) runs longer
# than go test's default ten-minute timeout on a two-core runner.
go test -race -count=1 -timeout=60m -json "$@" ./... | "$progress"

# The readers of untrusted input, fuzzed for a bounded number of inputs
# each from their committed corpus (testdata/fuzz): FUZZTIME=0 skips this.
# A count rather than a duration: Go 1.26's fuzz coordinator can report a
# duration's end as "context deadline exceeded" on a loaded machine
# (go.dev/issue/75804, fixed in Go 1.27); 20,000 inputs take up to about
# 30 s for the slowest target on two cores.
fuzztime=${FUZZTIME:-20000x}
if [ "$fuzztime" != 0 ]; then
  for target in schema:FuzzParse schema:FuzzShallow schema:FuzzPieces engine/plan:FuzzReadJSON engine/state:FuzzLoad providers/dns:FuzzParseZone \
                providers/apt:FuzzReadKeys providers/apt:FuzzSourceReadBack providers/apt:FuzzConflicts providers/webserver:FuzzReadBack; do
    pkg=${target%%:*} name=${target#*:}
    echo "fuzz $pkg $name for $fuzztime"
    if ! out=$(go test -run='^$' -fuzz="^$name\$" -fuzztime="$fuzztime" "./$pkg" 2>&1); then
      echo "$out" >&2
      exit 1
    fi
  done
fi
