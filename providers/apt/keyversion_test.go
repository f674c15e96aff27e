package apt_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/providers/apt"
)

// newKey writes a fresh key with a signing subkey (v6 when asked) and
// returns its file with the primary's and the subkey's fingerprints.
func newKey(t *testing.T, v6 bool) (file, primary, subkey string) {
	t.Helper()
	cfg := &packet.Config{V6Keys: v6, Algorithm: packet.PubKeyAlgoEd25519}
	e, err := openpgp.NewEntity("vendor", "", "archive@vendor.test", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.AddSigningSubkey(cfg); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w, _ := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	file = filepath.Join(t.TempDir(), "vendor.asc")
	os.WriteFile(file, b.Bytes(), 0o644)
	fpr := func(f []byte) string { return strings.ToUpper(hex.EncodeToString(f)) }
	return file, fpr(e.PrimaryKey.Fingerprint), fpr(e.Subkeys[len(e.Subkeys)-1].PublicKey.Fingerprint)
}

// An OpenPGP v6 key (RFC 9580) is pinned by its 64-hex-digit fingerprint.
func TestKeyV6Fingerprint(t *testing.T) {
	file, primary, _ := newKey(t, true)
	if len(primary) != 64 {
		t.Fatalf("a v6 fingerprint has %d digits", len(primary))
	}
	path := filepath.Join(t.TempDir(), "vendor.gpg")
	k := &apt.Key{Host: host.Local{}, Fingerprint: primary, URL: file, Path: path, Now: time.Now}
	if err := k.Apply(context.Background(), nil, "write"); err != nil {
		t.Fatal(err)
	}
	v, err := k.Observe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := v["fingerprints"].List; len(got) != 1 || got[0] != primary {
		t.Errorf("the keyring holds %v, want %s", got, primary)
	}
}

// A pinned subkey fingerprint (what NO_PUBKEY messages often print) is
// refused with the primary key named, so the fix is one copy and paste.
func TestKeySubkeyFingerprintNamesPrimary(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		file, primary, subkey := newKey(t, v6)
		path := filepath.Join(t.TempDir(), "vendor.gpg")
		k := &apt.Key{Host: host.Local{}, Fingerprint: subkey, URL: file, Path: path, Now: time.Now}
		err := k.Apply(context.Background(), nil, "write")
		if err == nil || !strings.Contains(err.Error(), "subkey of the key "+primary) || !strings.Contains(err.Error(), `fingerprint = "`+primary+`"`) {
			t.Errorf("v6=%v: the refusal does not name the primary %s: %v", v6, primary, err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Error("a keyring was written for a subkey pin")
		}
	}
}
