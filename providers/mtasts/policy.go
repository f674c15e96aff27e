package mtasts

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Policy is an MTA-STS policy (RFC 8461 §3.2).
type Policy struct {
	Mode   string   // testing, enforce, none
	MX     []string // patterns, as the mx lines give them
	MaxAge time.Duration
}

// Lines are the policy's lines, in order.
func (p Policy) Lines() []string {
	out := []string{"version: STSv1", "mode: " + p.Mode}
	for _, mx := range p.MX {
		out = append(out, "mx: "+mx)
	}
	return append(out, fmt.Sprintf("max_age: %d", int64(p.MaxAge.Seconds())))
}

// Text is the policy file: its lines, each ended by CRLF.
func (p Policy) Text() string { return strings.Join(p.Lines(), "\r\n") + "\r\n" }

// ID is the policy's id for the _mta-sts TXT record: derived from the
// policy's content, so that it changes exactly when the policy does (20
// hexadecimal digits of its SHA-256; RFC 8461 §3.1 allows 1 to 32 letters
// and digits).
func (p Policy) ID() string { return idOf(p.Text()) }

// idOf is the id of a policy file's bytes.
func idOf(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])[:20]
}

// parseLines reads a served policy file into its lines (CRLF or LF).
func parseLines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// txtID reads the id of an _mta-sts TXT record ("v=STSv1; id=…"), as it
// is in presentation form (quoted); "" when it is not one.
func txtID(record string) string {
	v := strings.ReplaceAll(strings.Trim(record, `"`), `" "`, "")
	if !strings.HasPrefix(v, "v=STSv1") {
		return ""
	}
	for _, f := range strings.Split(v, ";") {
		if id, ok := strings.CutPrefix(strings.TrimSpace(f), "id="); ok {
			return id
		}
	}
	return ""
}

// checkRPT is the _smtp._tls RRset as observed: its one record, or, when
// the records are not one valid TLS-RPT record (RFC 8460 §3), why not
// and what they are.
func checkRPT(records []string) string {
	joined := strings.Join(records, " ")
	if len(records) != 1 {
		return fmt.Sprintf("invalid (%d records; senders ignore all of them): %s", len(records), joined)
	}
	v := strings.ReplaceAll(strings.Trim(records[0], `"`), `" "`, "")
	fields := strings.Split(v, ";")
	if strings.TrimSpace(fields[0]) != "v=TLSRPTv1" {
		return "invalid (it does not begin with v=TLSRPTv1): " + joined
	}
	rua := ""
	for _, f := range fields[1:] {
		if r, ok := strings.CutPrefix(strings.TrimSpace(f), "rua="); ok {
			rua = r
		}
	}
	if rua == "" {
		return "invalid (no rua=): " + joined
	}
	for _, u := range strings.Split(rua, ",") {
		if u = strings.TrimSpace(u); !strings.HasPrefix(u, "mailto:") && !strings.HasPrefix(u, "https://") {
			return fmt.Sprintf("invalid (%q is neither mailto: nor https:): %s", u, joined)
		}
	}
	return joined
}
