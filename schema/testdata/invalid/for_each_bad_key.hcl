local_ca "ca" {
  for_each = { "mx1\n# injected" = 1 }
}
