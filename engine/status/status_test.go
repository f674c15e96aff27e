package status_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trustform/trustform/engine/status"
	"github.com/trustform/trustform/internal/testutil"
	"github.com/trustform/trustform/providers"
)

func at(s string) *time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return &t
}

// The page of a small fleet, golden-tested; what a server answered (a
// hostile reason) is text, not markup; and the page loads nothing from
// anywhere: no script, no external style, font or image.
func TestWriteHTML(t *testing.T) {
	hostile := `</td><script>alert(1)</script><img src="https://evil.example/x.png">`
	p := status.Page{
		Generated: *at("2026-12-07T12:00:00Z"),
		Certificates: []status.Certificate{
			{Address: "certificate.www", Domains: []string{"www.example.test"}, Issuer: "CN=Pebble", NotBefore: at("2026-11-01T00:00:00Z"), NotAfter: at("2027-01-30T00:00:00Z"), RenewFrom: at("2026-12-31T00:00:00Z"), UsedBy: []string{"vhost.www (nginx 443)"}, PinnedBy: []string{"tlsa.www"}},
			{Address: "certificate.old", Domains: []string{"old.example.test"}, Issuer: "CN=local", NotBefore: at("2026-09-01T00:00:00Z"), NotAfter: at("2026-12-01T00:00:00Z"), RenewFrom: at("2026-11-01T00:00:00Z")},
		},
		DANE: []providers.DANECell{
			{Owner: "_443._tcp.www.example.test.", Endpoint: "127.0.0.1:443", Server: "192.0.2.53:53", OK: true, Why: "matches 3 1 1 ab"},
			{Owner: "_443._tcp.www.example.test.", Endpoint: "127.0.0.1:443", Server: "192.0.2.54:53", Why: hostile},
		},
		Gates:       []status.Gate{{Address: "certificate.www", Phase: "deploy-next", OpensAt: at("2026-12-07T13:00:00Z")}},
		Revocations: []status.Revocation{{Address: "certificate.www", Serial: "0a1b", Reason: "keyCompromise"}},
		Drift:       []providers.Finding{{Event: "drift", Address: "tlsa.www", Summary: "records changed since the last apply"}},
		Runs:        []status.Run{{Command: "apply", At: *at("2026-12-07T11:00:00Z"), OK: false}, {Command: "plan", At: *at("2026-12-07T11:30:00Z"), OK: true}},
	}
	var b bytes.Buffer
	if err := status.WriteHTML(&b, p); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	testutil.Golden(t, "status.html", html)
	if strings.Contains(html, "<script") || strings.Contains(html, "<img") {
		t.Error("a server's answer became markup")
	}
	if ext := regexp.MustCompile(`(?i)(src|href)\s*=\s*"?(https?:)?//`).FindString(html); ext != "" {
		t.Errorf("the page loads something from elsewhere: %s", ext)
	}
	if n := strings.Count(html, `<tr class="certificate"`); n != 2 {
		t.Errorf("%d certificate rows, want 2", n)
	}
}
