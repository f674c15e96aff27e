# Found by FuzzParse: a tlsa block without zone or certificate crashed validation.
dns_zone "z" {
  name      = "example.test"
  zone_file = "z.zone"
}

tlsa "t" {}
