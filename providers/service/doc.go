// Package service is the service resource: a TLS daemon that reads a
// certificate from its files (Postfix, Dovecot, Exim, HAProxy, …). It owns
// no file. After each change of its certificate's files it runs the
// daemon's config test, then its reload, and waits until every endpoint
// serves the deployed certificate; between runs it observes what each
// endpoint serves (through STARTTLS for smtp, submission, imap and pop3),
// so a daemon serving another certificate is drift.
package service
