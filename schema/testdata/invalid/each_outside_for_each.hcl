local_ca "ca" {
  common_name = each.key
}
