local_ca "main" {}

local_ca "main" {
  common_name = "Another CA"
}
