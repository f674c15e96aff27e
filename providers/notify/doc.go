// Package notify is the notify kind: blocks that tell someone what a
// scheduled run found (drift, a failed apply, a step held at a gate, a
// renewal failing, a revocation owed), by webhook (a versioned JSON body)
// or e-mail (SMTP with STARTTLS). A notify block is not a resource: it
// observes and changes nothing, and sends only when the command is given
// -notify.
package notify
