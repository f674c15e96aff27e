#!/usr/bin/env bash
# Starts a BIND9 primary (127.0.0.1:5353: inline signing with dnssec-policy
# default, RFC 2136 updates granted to the TSIG key trustform-key) and a
# secondary (127.0.0.1:5354, fed by NOTIFY and zone transfer) for
# example.test, in ./bind/, and writes the key's secret to tsig.secret (0600).
# Stop them with: kill $(cat bind/*/named.pid)
set -euo pipefail
cd "$(dirname "$0")"
named=$(command -v named || echo /usr/sbin/named)
[ -x "$named" ] || { echo "named not found: apt-get install bind9 bind9-utils" >&2; exit 1; }

mkdir -p bind/primary/keys bind/secondary
if [ ! -s tsig.secret ]; then
  (umask 077; head -c 32 /dev/urandom | base64 > tsig.secret)
fi
secret=$(cat tsig.secret)

cat > bind/primary/zone.db <<ZONE
\$ORIGIN example.test.
\$TTL 60
@    IN SOA ns1 hostmaster 1 60 30 600 30
@    IN NS  ns1
@    IN NS  ns2
ns1  IN A   127.0.0.1
ns2  IN A   127.0.0.1
www  IN A   127.0.0.1
mail IN A   127.0.0.1
ZONE

common() { # directory port
  cat <<CONF
options {
  directory "$PWD/bind/$1";
  pid-file "$PWD/bind/$1/named.pid";
  listen-on port $2 { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
CONF
}
{ common primary 5353; cat <<CONF
  notify explicit; notify-delay 0; also-notify { 127.0.0.1 port 5354; };
  allow-transfer { any; };
  key-directory "$PWD/bind/primary/keys";
};
controls { };
key "trustform-key" { algorithm hmac-sha256; secret "$secret"; };
logging { channel f { file "$PWD/bind/primary/named.log"; print-time yes; print-category yes; }; category default { f; }; category update { f; }; };
zone "example.test" {
  type primary;
  file "zone.db";
  dnssec-policy default;
  inline-signing yes;
  update-policy { grant trustform-key zonesub ANY; };
};
CONF
} > bind/primary/named.conf
{ common secondary 5354; cat <<CONF
};
controls { };
logging { channel f { file "$PWD/bind/secondary/named.log"; print-time yes; print-category yes; }; category default { f; }; };
zone "example.test" { type secondary; file "zone.db"; primaries { 127.0.0.1 port 5353; }; };
CONF
} > bind/secondary/named.conf

"$named" -c bind/primary/named.conf
"$named" -c bind/secondary/named.conf
echo "BIND primary on 127.0.0.1:5353, secondary on 127.0.0.1:5354; logs in bind/*/named.log"
