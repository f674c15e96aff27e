// Package dns manages DANE TLSA RRsets in a DNS zone.
//
// A Zone is where records live: a BIND-format zone file (the embedded
// default) or an RFC 2136 primary with TSIG, whose updates carry
// prerequisites and whose propagation is checked on every authoritative
// server. A TLSA resource computes its records from its certificate's plan
// (the key or CA to be served, the staged next key), checks the service on
// its port against what every server publishes, and writes one step at a
// time; the steps of one zone in one plan phase are batched into one
// transaction (one file write, one UPDATE message).
package dns
