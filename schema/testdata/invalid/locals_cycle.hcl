locals {
  a = "${local.b}.test"
  b = local.a
}
