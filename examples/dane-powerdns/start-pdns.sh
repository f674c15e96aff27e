#!/usr/bin/env bash
# Starts PowerDNS Authoritative for example.test in ./pdns/: DNS on
# 127.0.0.1:5300, the HTTP API on 127.0.0.1:8081, the zone in a SQLite
# database, DNSSEC-signed with pdnsutil secure-zone. Writes the API key to
# pdns.key (0600). Stop it with: kill $(cat pdns/pdns.pid)
set -euo pipefail
cd "$(dirname "$0")"
pdns_server=$(command -v pdns_server || echo /usr/sbin/pdns_server)
[ -x "$pdns_server" ] || { echo "pdns_server not found: apt-get install pdns-server pdns-backend-sqlite3 sqlite3" >&2; exit 1; }
schema=/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql

mkdir -p pdns
if [ ! -s pdns.key ]; then
  (umask 077; head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > pdns.key)
fi
rm -f pdns/pdns.sqlite3
sqlite3 pdns/pdns.sqlite3 ".read $schema"
cat > pdns/pdns.conf <<CONF
launch=gsqlite3
gsqlite3-database=$PWD/pdns/pdns.sqlite3
gsqlite3-dnssec=yes
local-address=127.0.0.1
local-port=5300
api=yes
api-key=$(cat pdns.key)
webserver=yes
webserver-address=127.0.0.1
webserver-port=8081
webserver-allow-from=127.0.0.0/8
socket-dir=$PWD/pdns
guardian=no
daemon=no
disable-syslog=yes
primary=yes
CONF
chmod 600 pdns/pdns.conf
pdnsutil --config-dir="$PWD/pdns" create-zone example.test ns1.example.test >/dev/null 2>&1
pdnsutil --config-dir="$PWD/pdns" add-record example.test ns1 A 127.0.0.1 >/dev/null 2>&1
pdnsutil --config-dir="$PWD/pdns" add-record example.test www A 127.0.0.1 >/dev/null 2>&1
pdnsutil --config-dir="$PWD/pdns" secure-zone example.test >/dev/null 2>&1
"$pdns_server" --config-dir="$PWD/pdns" >pdns/pdns.log 2>&1 &
echo $! > pdns/pdns.pid
echo "PowerDNS: DNS 127.0.0.1:5300, API http://127.0.0.1:8081 (key in pdns.key); kill \$(cat pdns/pdns.pid) to stop"
