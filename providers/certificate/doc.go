// Package certificate is the certificate resource: a private key (0600 from
// the first byte) and a PEM chain deployed as files on a host, issued by an
// Issuer (the local CA, an ACME account). It stages what a DANE rollover
// publishes before it is served: a next key (KEY_FILE.next) and a chain
// issued for it (CERT_FILE.next). Its plan (KeyPlan) is what TLSA RRsets pin
// and vhosts serve.
package certificate
