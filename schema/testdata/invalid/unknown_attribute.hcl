local_ca "main" {
  validity = "10y"
}
