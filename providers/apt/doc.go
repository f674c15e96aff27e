// Package apt manages APT signing keys and sources the modern way: each key
// pinned by its full fingerprint and stored alone in its own keyring
// (/etc/apt/keyrings/NAME.gpg), each source a deb822 .sources file that
// names that keyring with Signed-By. OpenPGP parsing is ProtonMail/go-crypto.
package apt
