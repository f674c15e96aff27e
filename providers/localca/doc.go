// Package localca is the embedded default issuer: a small ECDSA certificate
// authority whose key lives in the state directory (mode 0600), so that
// trustform can issue real certificates with no server and no network.
//
// It is meant for the quickstart, test labs and internal names; public names
// want an ACME account.
package localca
