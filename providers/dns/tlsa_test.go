package dns

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/providers"
)

// TestCombine: resources sharing an owner write one RRset that keeps what
// none of them manages.
func TestCombine(t *testing.T) {
	ee := &TLSA{Owner: "_25._tcp.mail.example.test.", TTL: 300, Params: [3]uint8{3, 1, 1}, others: []string{"2 1 1 ca", "3 0 1 hand"}}
	ta := &TLSA{Owner: ee.Owner, TTL: 300, Params: [3]uint8{2, 1, 1}, others: []string{"3 1 1 old", "3 0 1 hand"}}
	other := &TLSA{Owner: "_443._tcp.www.example.test.", TTL: 60, Params: [3]uint8{3, 1, 1}}
	for _, tc := range []struct {
		name    string
		changes map[*TLSA][]string
		want    []RRset
	}{
		{"one resource keeps the others' records", map[*TLSA][]string{ee: {"3 1 1 new", "3 1 1 old"}},
			[]RRset{{Owner: ee.Owner, Type: mdns.TypeTLSA, TTL: 300, Records: []string{"2 1 1 ca", "3 0 1 hand", "3 1 1 new", "3 1 1 old"}}}},
		{"both resources in one change", map[*TLSA][]string{ee: {"3 1 1 new"}, ta: {"2 1 1 ca2"}},
			[]RRset{{Owner: ee.Owner, Type: mdns.TypeTLSA, TTL: 300, Records: []string{"2 1 1 ca2", "3 0 1 hand", "3 1 1 new"}}}},
		{"owners apart", map[*TLSA][]string{ee: {"3 1 1 new"}, other: {"3 1 1 w"}},
			[]RRset{{Owner: ee.Owner, Type: mdns.TypeTLSA, TTL: 300, Records: []string{"2 1 1 ca", "3 0 1 hand", "3 1 1 new"}}, {Owner: other.Owner, TTL: 60, Records: []string{"3 1 1 w"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Combine(tc.changes)
			if !slices.EqualFunc(got, tc.want, func(a, b RRset) bool {
				return a.Owner == b.Owner && a.TTL == b.TTL && slices.Equal(a.Records, b.Records)
			}) {
				t.Errorf("Combine = %+v\nwant      %+v", got, tc.want)
			}
		})
	}
}

// TestObserveAfterWrite: what a step records is what it made true. The
// observation after a write must find what was written; a change the
// server lost (or another writer undid) is an error, not a value to record.
func TestObserveAfterWrite(t *testing.T) {
	const zone = "$ORIGIN example.test.\n@ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 3600\n@ IN NS ns1\n" +
		"_443._tcp.www IN TLSA 3 1 1 aabbccdd\n"
	ctx := context.Background()
	for _, lose := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "zone")
		os.WriteFile(path, []byte(zone), 0o644)
		z := &lossyZone{ZoneFile: &ZoneFile{Host: host.Local{}, Origin: "example.test.", Path: path, Now: time.Now}, lose: lose}
		tl := &TLSA{Zone: z, ZoneName: "example", Owner: "_443._tcp.www.example.test.", TTL: 300, Params: [3]uint8{3, 1, 1}}
		if _, err := tl.Observe(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := tl.ApplyBatch(ctx, []providers.BatchItem{{Resource: tl, Phase: providers.PhaseDelete}}); err != nil {
			t.Fatal(err)
		}
		v, err := tl.Observe(ctx)
		switch {
		case !lose && (err != nil || v != nil):
			t.Errorf("after the delete: %v, %v; want nothing", v, err)
		case lose && (err == nil || !strings.Contains(err.Error(), `the primary serves ["3 1 1 aabbccdd"]`)):
			t.Errorf("a lost write is recorded: %v, %v", v, err)
		}
		if _, err := tl.Observe(ctx); err != nil {
			t.Errorf("a later observation still compares with the write: %v", err)
		}
	}
}

// lossyZone is a zone file whose server answers an update and loses it.
type lossyZone struct {
	*ZoneFile
	lose bool
}

func (z *lossyZone) Update(ctx context.Context, sets []RRset) error {
	if z.lose {
		return nil
	}
	return z.ZoneFile.Update(ctx, sets)
}
