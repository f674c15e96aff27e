# The zone file's $ORIGIN line would carry an extra record.
dns_zone "z" {
  name      = "example.test.\nevil 300 IN A 192.0.2.66\n$ORIGIN example.test."
  zone_file = "z.zone"
}

dns_zone "spaced" {
  name      = "example test"
  zone_file = "s.zone"
}
