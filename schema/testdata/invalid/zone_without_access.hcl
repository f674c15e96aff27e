dns_zone "example" {
  name = "example.test"
}
