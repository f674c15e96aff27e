// Package acme obtains certificates from an ACME CA with go-acme/lego: an
// account registered once, its key kept in the state directory (0600, never in
// state, plans or output), and an Issuer that answers http-01 through the
// webroot of the HTTP vhost serving the names (or lego's own server when no
// vhost does) or dns-01 through the zone's RFC 2136 primary with its TSIG
// key. Before ordering, the Issuer runs the PreCheck it was given (the
// engine gives http-01 through a vhost the acme-challenge-not-redirected
// check), so a redirected challenge path fails at once instead of burning a
// failed authorization.
package acme
