// Package caa is the caa kind: the CAA RRset at one name of a managed
// zone, derived from the ACME accounts that may issue for it (RFC 8659,
// RFC 8657): for each account an issue record that binds its URI and the
// challenges its certificates under the name use, issuewild records that
// follow the certificates that really hold wildcards (";" otherwise), and
// iodef. It is written through the zone's backend, in the zone's change
// set of the phase; rule caa-before-order publishes it after the accounts
// are registered and before the orders it governs.
package caa
