package plan

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// A saved plan is authenticated with a key the runner holds outside the
// configuration (TRUSTFORM_PLAN_KEY or a key file): HMAC-SHA256 over the
// plan's JSON without its signature. apply PLANFILE then takes what the
// engine cannot recompute (replace, revoke, targets) from a file only when
// it verifies: an artefact store, or whoever can write to it, cannot add a
// revocation to a reviewed "no changes" plan.

// signaturePrefix names the algorithm in the signature field.
const signaturePrefix = "hmac-sha256:"

// MinKeyLen is the shortest plan key accepted, in bytes.
const MinKeyLen = 32

// ErrUnsigned: the file carries no signature.
var ErrUnsigned = errors.New("the plan file is not signed")

// Sign sets p's signature for key.
func Sign(p *Plan, key []byte) error {
	mac, err := macOf(p, key)
	if err != nil {
		return err
	}
	p.Signature = signaturePrefix + hex.EncodeToString(mac)
	return nil
}

// Verify checks p's signature against key: ErrUnsigned without one, an
// error when it does not verify.
func Verify(p *Plan, key []byte) error {
	sig, ok := strings.CutPrefix(p.Signature, signaturePrefix)
	if p.Signature == "" {
		return ErrUnsigned
	}
	got, err := hex.DecodeString(sig)
	if !ok || err != nil {
		return errors.New("its signature is not an HMAC-SHA256")
	}
	want, err := macOf(p, key)
	if err != nil {
		return err
	}
	if !hmac.Equal(got, want) {
		return errors.New("its signature does not verify: the file was changed after plan made it, or it was signed with another key")
	}
	return nil
}

// macOf is the HMAC of p's JSON without its signature.
func macOf(p *Plan, key []byte) ([]byte, error) {
	if len(key) < MinKeyLen {
		return nil, errors.New("the plan key is shorter than 32 bytes")
	}
	q := *p
	q.Signature = ""
	var buf bytes.Buffer
	if err := WriteJSON(&buf, &q); err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, key)
	m.Write(buf.Bytes())
	return m.Sum(nil), nil
}

// Options renders the options a plan was made with as command-line flags,
// or "no -replace, -revoke or -target".
func Options(replace []string, revoke string, targets []string) string {
	var parts []string
	for _, a := range replace {
		parts = append(parts, "-replace="+a)
	}
	if revoke != "" {
		parts = append(parts, "-revoke="+revoke)
	}
	for _, a := range targets {
		parts = append(parts, "-target="+a)
	}
	if len(parts) == 0 {
		return "no -replace, -revoke or -target"
	}
	return strings.Join(parts, " ")
}
