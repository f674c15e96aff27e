// Package dns manages DANE TLSA RRsets in a DNS zone.
//
// A Zone is where records live: a BIND-format zone file here (the embedded
// default), an RFC 2136 primary with TSIG later. All changes of one plan
// phase in one zone are handed to Zone.Update together, so that they land as
// one transaction (one file write, one UPDATE message).
package dns
