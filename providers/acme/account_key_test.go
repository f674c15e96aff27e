package acme

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/go-acme/lego/v4/certcrypto"
	jose "github.com/go-jose/go-jose/v4"
)

// An account key is read as trustform writes it (PEM) or as certbot keeps
// it (a private JSON Web Key); a public JWK or other bytes are refused.
func TestParseAccountKey(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	certbot, _ := jose.JSONWebKey{Key: rsaKey}.MarshalJSON() // {"kty":"RSA","n":…,"e":…,"d":…,"p":…,"q":…,"dp":…,"dq":…,"qi":…}
	public, _ := jose.JSONWebKey{Key: &rsaKey.PublicKey}.MarshalJSON()
	for _, tc := range []struct {
		name string
		in   []byte
		err  string
	}{
		{"certbot's private_key.json", certbot, ""},
		{"PEM", certcrypto.PEMEncode(ecKey), ""},
		{"a public JWK", public, "holds no private key"},
		{"neither", []byte("{nonsense"), "not a JSON Web Key"},
	} {
		k, err := ParseAccountKey(tc.in)
		switch {
		case tc.err == "" && (err != nil || k == nil):
			t.Errorf("%s: %v", tc.name, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.err)
		}
	}
	if k, _ := ParseAccountKey(certbot); k != nil && !k.Public().(*rsa.PublicKey).Equal(&rsaKey.PublicKey) {
		t.Error("the JWK read is another key")
	}
}
