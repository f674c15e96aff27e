# The configuration the workflow and the systemd units run (trust/ in the
# repository). State and lock live in PostgreSQL, so every runner (a pull
# request's plan, the merge's apply, the drift timer, a colleague's laptop)
# sees the last apply; nothing depends on files surviving in the checkout.
# The secrets come from each runner's secret store into a directory outside
# the checkout (var.secrets: never in the configuration directory, where a
# pull request's file() could name them; see README.md); the rest is in
# the repository.

variable "secrets" {
  type        = string
  description = "the runner's directory of secret files (0600), outside the configuration"
  default     = "/etc/trustform/secrets"
}

# The server is pinned by each runner, not here: TRUSTFORM_PG_CONN_STR (or
# -backend-config=conn_str=…), e.g.
#   postgres://trustform@db.example.net/trustform?sslmode=verify-full&sslrootcert=system
# A pull request that adds a conn_str naming another server is refused
# before any connection. No password anywhere: PGPASSWORD or ~/.pgpass.
state "postgres" {
  name = "production"
}

host "web1" {
  address = "192.0.2.80"
  ssh {
    user          = "deploy"
    identity_file = "${var.secrets}/deploy_ed25519" # secret TRUSTFORM_SSH_KEY
    known_hosts   = "known_hosts"            # committed, checked by hand
    become        = true
  }
}

dns_zone "example" {
  name   = "example.net"
  server = "192.0.2.53:53"
  tsig {
    name        = "trustform"
    secret_file = "${var.secrets}/tsig.secret" # secret TRUSTFORM_TSIG_SECRET
  }
}

acme_account "le" {
  directory = "https://acme-v02.api.letsencrypt.org/directory"
  email     = "hostmaster@example.net"
  key_file  = "${var.secrets}/acme-account.key" # secret TRUSTFORM_ACME_ACCOUNT_KEY
  # Registration agrees to the CA's terms (the plan names them).
  terms_of_service_agreed = true
}

# The internal CA for the intranet: its certificate is public (committed),
# its key a secret.
local_ca "intranet" {
  common_name = "Example intranet CA"
  cert_file   = "ca/intranet.pem"
  key_file    = "${var.secrets}/intranet-ca.key" # secret TRUSTFORM_CA_KEY
}

certificate "www" {
  domains   = ["www.example.net"]
  issuer    = acme_account.le
  challenge = "dns-01"
  cert_file = "/etc/ssl/www/fullchain.pem"
  key_file  = "/etc/ssl/www/privkey.pem"
  host      = host.web1
}

tlsa "www_https" {
  zone        = dns_zone.example
  name        = "_443._tcp.www"
  certificate = certificate.www
}

certificate "intranet" {
  domains   = ["intranet.example.net"]
  issuer    = local_ca.intranet
  cert_file = "/etc/ssl/intranet/fullchain.pem"
  key_file  = "/etc/ssl/intranet/privkey.pem"
  host      = host.web1
}

# Who hears of what the scheduled runs find (sent only with -notify, as
# trustform-drift.service and trustform-apply.service give it; never by
# the pull request's plan).
notify "ops" {
  on           = ["drift", "apply-failed", "renewal-failing", "revocation-pending"]
  repeat_after = "1d"
  webhook {
    url          = "https://hooks.example.net/trustform"
    headers_file = "${var.secrets}/webhook-headers" # secret TRUSTFORM_WEBHOOK_HEADERS
  }
}
