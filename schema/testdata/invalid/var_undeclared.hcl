local_ca "main" {
  common_name = var.ca_name
}
