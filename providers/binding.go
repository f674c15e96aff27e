package providers

import (
	"context"
	"crypto/x509"
)

// What the objects of different kinds ask of each other while a
// configuration is bound, before anything is observed.

// Deployment is a bound certificate as the kinds that read its files see
// it (a service tests and restores them, a vhost checks its served chain).
type Deployment interface {
	Deployed() Deployed
}

// Deployed is where a certificate's files are and what its chains build to.
type Deployed struct {
	CertPath, KeyPath string // as the host door finds them
	Names             []string
	// Roots are the roots its chains must build to (the issuer's); nil
	// when its issuer is not known.
	Roots func() *x509.CertPool
}

// TLSEndpointer is a bound object that serves TLS at endpoints (a vhost,
// a mail service): what TLSA RRsets compare the served certificates with.
type TLSEndpointer interface {
	TLSEndpoints() []Endpoint
}

// Endpoint is a TLS endpoint and the names it serves.
type Endpoint struct {
	URL      string // as configured, for messages: "smtp://192.0.2.25:25"
	Addr     string // host:port
	StartTLS string // the protocol that starts TLS ("smtp"), or "" for TLS at once
	Names    []string
}

// Linker is a bound object that needs the others of the configuration,
// once every block is bound: Link is handed the finished binding. What
// every Linker of a kind reads alike it reads once (Binding.Once).
type Linker interface {
	Link(b Binding)
}

// Zone is a bound zone as the checks that read a whole zone see it.
type Zone interface {
	// Hosts lists the names in the zone that carry addresses (fully
	// qualified, lower case, sorted).
	Hosts(ctx context.Context) ([]string, error)
	// Records are every record of the zone, in presentation form, as
	// the primary (or the API, or the file) has them: what trustform
	// import reads.
	Records(ctx context.Context) ([]string, error)
}
