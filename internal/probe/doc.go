// Package probe observes what a vhost really serves, as a client sees it: a
// TLS handshake with SNI (the served leaf, named by the SHA-256 of its DER
// and its expiry, the negotiated protocol and every protocol version the server accepts), the
// Strict-Transport-Security header over HTTPS, and over plain HTTP, without
// following redirects, the status, Location and HSTS header of a request and
// what /.well-known/acme-challenge/ answers. It only reads.
package probe
