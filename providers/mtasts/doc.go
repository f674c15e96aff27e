// Package mtasts is the mta_sts kind: a mail domain's MTA-STS policy (RFC
// 8461) for senders that do not validate DNSSEC, served by a vhost
// trustform manages, its id in the _mta-sts TXT record derived from the
// policy's content, and TLS-RPT (RFC 8460). Rule mta-sts-policy-before-id
// publishes a new id only once the policy is served and fetched back as a
// sender fetches it.
package mtasts
