local_ca "main" {
  common_name = "unterminated
}
