local_ca "ca" {
  for_each = ["a", "b"]
}
