local_ca "ca" {
  for_each = toset(["a"])
}
local_ca "ca[\"a\"]" {}
