package dns_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/internal/labutil"
	"github.com/trustform/trustform/providers/dns"
)

const zone = `$ORIGIN example.test.
$TTL 3600
@     IN SOA ns1 hostmaster ( 2026010100 7200 3600 1209600 3600 )
      IN NS  ns1
ns1   IN A   192.0.2.53
_443._tcp.www IN TLSA 3 1 1 AABBCCDD
_443._tcp.www IN TLSA 3 1 1 EEFF0011
txt   IN TXT "kept as it is"
`

func TestZoneFileUpdate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zone")
	os.WriteFile(path, []byte(zone), 0o640)
	z := &dns.ZoneFile{Host: host.Local{}, Origin: "example.test.", Path: path, Now: func() time.Time { return time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC) }}
	ctx := context.Background()

	got, err := z.RRset(ctx, "_443._tcp.WWW.example.test.", mdns.TypeTLSA)
	if err != nil || len(got) != 2 {
		t.Fatalf("TLSA lookup is case-insensitive: got %v, %v", got, err)
	}
	if recs := dns.Presentation(got); recs[0] != "3 1 1 aabbccdd" {
		t.Errorf("association data is lower-cased for comparison: %v", recs)
	}

	err = z.Update(ctx, []dns.RRset{
		{Owner: "_443._tcp.www.example.test.", Type: mdns.TypeTLSA, TTL: 300, Records: []string{"3 1 1 aabbccdd"}},
		{Owner: "_25._tcp.mail.example.test.", Type: mdns.TypeTLSA, TTL: 300, Records: []string{"3 1 1 99887766"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	rrs, err := dns.ParseZone(b, "example.test.", "zone")
	if err != nil {
		t.Fatalf("written zone does not parse: %v\n%s", err, b)
	}
	var soa *mdns.SOA
	var tlsa, txt []string
	for _, rr := range rrs {
		switch r := rr.(type) {
		case *mdns.SOA:
			soa = r
		case *mdns.TLSA:
			tlsa = append(tlsa, r.Hdr.Name+" "+r.Certificate)
		case *mdns.TXT:
			txt = r.Txt
		}
	}
	if soa.Serial != 2026112400 {
		t.Errorf("serial %d, want the date-style 2026112400", soa.Serial)
	}
	if strings.Join(tlsa, ",") != "_443._tcp.www.example.test. aabbccdd,_25._tcp.mail.example.test. 99887766" {
		t.Errorf("TLSA records after update: %v", tlsa)
	}
	if len(txt) != 1 || txt[0] != "kept as it is" {
		t.Errorf("unmanaged record changed: %v", txt)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("zone file mode %v, want the original 0640", st.Mode().Perm())
	}
}

// A failing reload command puts the previous zone file back, byte for byte.
func TestZoneFileReloadFailureRestores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zone")
	os.WriteFile(path, []byte(zone), 0o644)
	z := &dns.ZoneFile{Host: host.Local{}, Origin: "example.test.", Path: path, ReloadCommand: "echo 'rndc: connection refused' >&2; exit 1", Now: time.Now}
	err := z.Update(context.Background(), []dns.RRset{{Owner: "_443._tcp.www.example.test.", Type: mdns.TypeTLSA, TTL: 300}})
	if err == nil || !strings.Contains(err.Error(), "rndc: connection refused") {
		t.Fatalf("error does not quote the reload command: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != zone {
		t.Errorf("zone file not restored:\n%s", b)
	}
}

func TestNextSerial(t *testing.T) {
	day := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ in, want uint32 }{
		{1, 2},
		{2026112400, 2026112401},
		{2026010105, 2026112400},
		{2026112499, 2026112500}, // more than 99 changes a day: keeps counting
		{4294967295, 0},          // RFC 1982 wrap-around
	} {
		if got := dns.NextSerial(tc.in, day); got != tc.want {
			t.Errorf("NextSerial(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// FuzzParseZone: a zone file is read as trustform reads it without a
// panic, and an error never quotes the file's text.
func FuzzParseZone(f *testing.F) {
	f.Add([]byte(zone))
	f.Add([]byte("$ORIGIN x.\n@ IN SOA a b 1 2 3 4 5\n"))
	f.Add([]byte("$INCLUDE /etc/passwd\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rrs, _, err := dns.ReadZone(b, "example.test.", "fuzz")
		if err != nil {
			if strings.Contains(err.Error(), `: "`) {
				t.Fatalf("the error quotes a token: %v", err)
			}
			return
		}
		for _, rr := range rrs {
			if t, ok := rr.(*mdns.TLSA); ok {
				dns.Presentation([]mdns.RR{t})
			}
		}
	})
}

// TestZoneErrorsQuoteNoContent: a zone_file pointed at a password file
// fails with the position of the first bad line, not its text.
func TestZoneErrorsQuoteNoContent(t *testing.T) {
	_, err := dns.ParseZone([]byte("root:$6$c2VjcmV0aGFzaA:19000:0:99999:7:::\n"), "example.test.", "/etc/shadow")
	if err == nil {
		t.Fatal("a password file parses as a zone")
	}
	if strings.Contains(err.Error(), "c2VjcmV0") || strings.Contains(err.Error(), "root:") {
		t.Errorf("the error quotes the file: %v", err)
	}
	if !strings.Contains(err.Error(), "/etc/shadow") || !strings.Contains(err.Error(), "at line 1:") {
		t.Errorf("the error does not say where: %v", err)
	}
}

// TestZoneFileIncludes: a zone that pulls its DNSSEC key in with $INCLUDE
// (BIND's usual layout, dnssec-keygen's key file) and has a $GENERATE is
// managed, both are kept, and BIND's own named-checkzone loads the result
// with the key and the generated records.
func TestZoneFileIncludes(t *testing.T) {
	keygen := labutil.Binary(t, "dnssec-keygen", "/usr/bin/dnssec-keygen", "/usr/sbin/dnssec-keygen")
	checkzone := labutil.Binary(t, "named-checkzone", "/usr/bin/named-checkzone", "/usr/sbin/named-checkzone")
	dir := t.TempDir()
	out, err := exec.Command(keygen, "-K", dir, "-a", "ECDSAP256SHA256", "-n", "ZONE", "example.test").CombinedOutput()
	if err != nil {
		t.Fatalf("dnssec-keygen: %v\n%s", err, out)
	}
	keyFile := filepath.Join(dir, strings.TrimSpace(string(out))+".key")
	path := filepath.Join(dir, "zone")
	os.WriteFile(path, []byte(zone+"$INCLUDE "+keyFile+"\n$ORIGIN sub.example.test.\nhost IN A 192.0.2.9\n$GENERATE 1-3 dhcp-$ A 192.0.2.$\n"), 0o644)
	z := &dns.ZoneFile{Host: host.Local{}, Origin: "example.test.", Path: path, Now: time.Now}
	if err := z.Update(context.Background(), []dns.RRset{{Owner: "_25._tcp.mail.example.test.", Type: mdns.TypeTLSA, TTL: 300, Records: []string{"3 1 1 99887766"}}}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), "$ORIGIN example.test.\n$TTL 3600\n$INCLUDE "+keyFile+"\n") ||
		!strings.Contains(string(b), "$ORIGIN sub.example.test.\n$TTL 3600\n$GENERATE 1-3 dhcp-$ A 192.0.2.$\n") {
		t.Errorf("the include and the generate are not kept with their origin:\n%s", b)
	}
	dump, err := exec.Command(checkzone, "-D", "example.test", path).CombinedOutput()
	if err != nil {
		t.Fatalf("named-checkzone refuses the written zone: %v\n%s\n%s", err, dump, b)
	}
	for _, want := range []string{"DNSKEY", "_25._tcp.mail.example.test.", "host.sub.example.test.", "dhcp-3.sub.example.test."} {
		if !strings.Contains(string(dump), want) {
			t.Errorf("named-checkzone's view lacks %s:\n%s", want, dump)
		}
	}
}

// Hosts lists each owner of A or AAAA records once, lower case.
func TestZoneFileHosts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zone")
	os.WriteFile(path, []byte(zone+"WWW IN A 192.0.2.10\nwww IN AAAA 2001:db8::10\n"), 0o640)
	z := &dns.ZoneFile{Host: host.Local{}, Origin: "example.test.", Path: path, Now: time.Now}
	got, err := z.Hosts(context.Background())
	if err != nil || strings.Join(got, ",") != "ns1.example.test.,www.example.test." {
		t.Errorf("Hosts = %v, %v", got, err)
	}
}

// A zone file keeps RRsets of any type the kinds ask for: TXT and CAA are
// written beside TLSA at one owner, and each is read back alone.
func TestZoneFileAnyType(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zone")
	os.WriteFile(path, []byte("$ORIGIN example.test.\n@ 3600 IN SOA ns hostmaster 1 3600 600 86400 300\n@ 3600 IN NS ns\nns 3600 IN A 192.0.2.53\n"), 0o644)
	z := &dns.ZoneFile{Host: host.Local{}, Origin: "example.test.", Path: path, Now: time.Now}
	ctx := context.Background()
	sets := []dns.RRset{
		{Owner: "example.test.", Type: mdns.TypeCAA, TTL: 3600, Records: []string{`0 issue "ca.example.net; accounturi=https://ca.example.net/acct/1"`}},
		{Owner: "_mta-sts.example.test.", Type: mdns.TypeTXT, TTL: 3600, Records: []string{`"v=STSv1; id=20261207"`}},
		{Owner: "_25._tcp.mail.example.test.", Type: mdns.TypeTLSA, TTL: 3600, Records: []string{"3 1 1 aabb"}},
	}
	if err := z.Update(ctx, sets); err != nil {
		t.Fatal(err)
	}
	for _, set := range sets {
		rrs, err := z.RRset(ctx, set.Owner, set.Type)
		if got := dns.Presentation(rrs); err != nil || !slices.Equal(got, set.Records) {
			t.Errorf("%s %s: %q, %v; want %q", set.Owner, mdns.TypeToString[set.Type], got, err, set.Records)
		}
	}
	if rrs, _ := z.RRset(ctx, "example.test.", mdns.TypeTXT); len(rrs) != 0 {
		t.Errorf("a TXT RRset at the apex appeared: %v", rrs)
	}
	if err := z.Update(ctx, []dns.RRset{{Owner: "example.test.", Type: mdns.TypeCAA, TTL: 3600}}); err != nil {
		t.Fatal(err)
	}
	if rrs, _ := z.RRset(ctx, "example.test.", mdns.TypeCAA); len(rrs) != 0 {
		t.Errorf("the CAA RRset was not deleted: %v", rrs)
	}
	if rrs, _ := z.RRset(ctx, "_mta-sts.example.test.", mdns.TypeTXT); len(rrs) != 1 {
		t.Errorf("deleting the CAA RRset took the TXT one: %v", rrs)
	}
}
