# A CA key kept outside the state directory needs its certificate beside it.
local_ca "corp" {
  key_file = "/run/secrets/ca.key"
}

local_ca "other" {
  cert_file = "/run/secrets/../ca.pem"
  key_file  = "/run/secrets/other.key"
}
