package dns

import (
	"slices"
	"testing"
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
			[]RRset{{Owner: ee.Owner, TTL: 300, Records: []string{"2 1 1 ca", "3 0 1 hand", "3 1 1 new", "3 1 1 old"}}}},
		{"both resources in one change", map[*TLSA][]string{ee: {"3 1 1 new"}, ta: {"2 1 1 ca2"}},
			[]RRset{{Owner: ee.Owner, TTL: 300, Records: []string{"2 1 1 ca2", "3 0 1 hand", "3 1 1 new"}}}},
		{"owners apart", map[*TLSA][]string{ee: {"3 1 1 new"}, other: {"3 1 1 w"}},
			[]RRset{{Owner: ee.Owner, TTL: 300, Records: []string{"2 1 1 ca", "3 0 1 hand", "3 1 1 new"}}, {Owner: other.Owner, TTL: 60, Records: []string{"3 1 1 w"}}}},
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
