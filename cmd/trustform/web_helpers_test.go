package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"os/exec"
	"testing"
	"time"
)

func osexec(command string) ([]byte, error) {
	return exec.Command("sh", "-c", command).CombinedOutput()
}

// otherKey is the private key of otherCert (PEM), set by otherCert.
var otherKey string

// otherCert is a self-signed certificate for example.test with a fresh key:
// what an administrator might copy over the deployed file by mistake.
func otherCert(t *testing.T) string {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalECPrivateKey(key)
	otherKey = string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "example.test"}, DNSNames: []string{"example.test", "www.example.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}))
}

// spkiHex is the hex SHA-256 of a DER SubjectPublicKeyInfo: the data of a
// x 1 1 TLSA record, computed here independently of trustform.
func spkiHex(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

func tlsDial(addr, name string) (*tls.Conn, error) {
	return tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, &tls.Config{ServerName: name, InsecureSkipVerify: true})
}
