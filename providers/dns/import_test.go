package dns

import (
	"context"
	"strings"
	"testing"

	"github.com/trustform/trustform/providers"
)

// TestImportTLSA: the TLSA RRsets of a zone as an import reads them: each
// tied to the certificate whose key (selector 1) or certificate (selector
// 0) it carries; trust-anchor records and records of no certificate of the
// configuration named and left out.
func TestImportTLSA(t *testing.T) {
	spki, leaf := strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	records := []string{
		"example.test.\t3600\tIN\tSOA\tns.example.test. admin.example.test. 1 3600 600 86400 300",
		"_25._tcp.mail.example.test.\t300\tIN\tTLSA\t3 1 1 " + spki,
		"_443._tcp.www.example.test.\t3600\tIN\tTLSA\t3 0 1 " + leaf,
		"_443._tcp.www.example.test.\t3600\tIN\tTLSA\t2 1 1 " + strings.Repeat("ef", 32),
		"_993._tcp.mail.example.test.\t3600\tIN\tTLSA\t3 1 1 " + strings.Repeat("01", 32),
	}
	in := providers.ImportInput{Zone: "dns_zone.example", Origin: "example.test.",
		Certs:   []providers.HeldCert{{Addr: "certificate.mail", SPKI: spki}, {Addr: "certificate.www", Leaf: leaf}},
		Records: func(context.Context) ([]string, error) { return records, nil }}
	got, err := ZoneImporter().Read(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range got.Blocks {
		names = append(names, b.Name)
	}
	if len(got.Blocks) != 2 || got.Blocks[0].Name != "mail_25" || got.Blocks[1].Name != "www_443" {
		t.Fatalf("blocks %v, want mail_25 and www_443", names)
	}
	notes := strings.Join(got.Notes, "\n")
	for _, want := range []string{"_443._tcp.www.example.test. TLSA 2 1 1: a trust-anchor record", "_993._tcp.mail.example.test. TLSA 3 1 1: matches no certificate"} {
		if !strings.Contains(notes, want) {
			t.Errorf("no note %q in:\n%s", want, notes)
		}
	}
}
