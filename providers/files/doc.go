// Package files manages files on the local filesystem: atomic writes with the
// right mode, the previous copy kept beside a replaced file, and the
// certificate resource (a private key and a certificate chain deployed as
// files, issued by an Issuer such as the local CA or an ACME account).
package files
