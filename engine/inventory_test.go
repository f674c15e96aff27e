package engine_test

import (
	"testing"
	"time"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/providers"
)

// TestInventoryFilter: show's -key (colons and case as openssl prints
// them, the next key too), -expires-within and -host (local for this
// machine) narrow the inventory; together they all apply.
func TestInventoryFilter(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	soon, late := now.Add(10*24*time.Hour), now.Add(80*24*time.Hour)
	all := []engine.Holding{
		{Address: "certificate.www", Host: "host.web", Held: providers.Held{SPKISHA256: "ab12", NextKey: "cd34", NotAfter: &soon}},
		{Address: "certificate.mail", Host: "", Held: providers.Held{SPKISHA256: "ef56", NotAfter: &late}},
	}
	for _, tc := range []struct {
		name   string
		filter engine.Filter
		want   []string
	}{
		{"none", engine.Filter{}, []string{"certificate.www", "certificate.mail"}},
		{"key with colons", engine.Filter{Key: "AB:12"}, []string{"certificate.www"}},
		{"next key", engine.Filter{Key: "cd34"}, []string{"certificate.www"}},
		{"expires within 30d", engine.Filter{Within: 30 * 24 * time.Hour}, []string{"certificate.www"}},
		{"host", engine.Filter{Host: "web"}, []string{"certificate.www"}},
		{"local", engine.Filter{Host: "local"}, []string{"certificate.mail"}},
		{"both", engine.Filter{Host: "local", Within: 30 * 24 * time.Hour}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, h := range tc.filter.Select(all, now) {
				got = append(got, h.Address)
			}
			if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
