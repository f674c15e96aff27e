package dns

import (
	"slices"
	"testing"
)

// TestRecordSetWrite: what each step writes into a TLSA RRset; a prune
// while the certificate is due again keeps what is served and drops the
// rest, and the other steps wait until the records are known.
func TestRecordSetWrite(t *testing.T) {
	for _, tc := range []struct {
		name      string
		set       recordSet
		phase     string
		published []string
		want      []string
		fails     bool
	}{
		{"publish beside what is published", recordSet{target: "3 1 1 bb", live: "3 1 1 aa"}, PhasePublish, []string{"3 1 1 aa"}, []string{"3 1 1 aa", "3 1 1 bb"}, false},
		{"prune to the served record", recordSet{target: "3 1 1 bb", live: "3 1 1 bb"}, PhasePrune, []string{"3 1 1 aa", "3 1 1 bb"}, []string{"3 1 1 bb"}, false},
		{"prune while due again", recordSet{unknown: "certificate.www is issued", live: "2 1 1 cc"}, PhasePrune, []string{"2 1 1 aa", "2 1 1 cc"}, []string{"2 1 1 cc"}, false},
		{"publish while unknown", recordSet{unknown: "certificate.www is issued", live: "2 1 1 cc"}, PhasePublish, nil, nil, true},
		{"prune with nothing served", recordSet{unknown: "certificate.www is issued"}, PhasePrune, nil, nil, true},
		{"prune keeps the fallback's CA", recordSet{target: "2 1 1 aa", live: "2 1 1 aa", kept: []string{"2 1 1 aa", "2 1 1 ff"}}, PhasePrune, []string{"2 1 1 aa", "2 1 1 cc", "2 1 1 ff"}, []string{"2 1 1 aa", "2 1 1 ff"}, false},
	} {
		got, err := tc.set.write(tc.phase, tc.published)
		if (err != nil) != tc.fails || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v %v, want %v (fails %v)", tc.name, got, err, tc.want, tc.fails)
		}
	}
}
