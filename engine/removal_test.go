package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/state"
)

// TestRemoval: a block removed from the configuration plans the deletion
// of what it managed, ordered against what it refers to, each with a
// warning; a removed block with destroy = false forgets instead.
func TestRemoval(t *testing.T) {
	ec256 := strings.ReplaceAll(base, "KEYTYPE", "ec256")
	tlsa := ec256[strings.Index(ec256, `tlsa "www"`):]
	withoutTLSA := strings.Replace(ec256, tlsa, "", 1)
	certAndTLSA := ec256[strings.Index(ec256, `certificate "www"`):]
	onlyZoneAndCA := strings.Replace(ec256, certAndTLSA, "", 1)
	httpVhost := vhosts[strings.Index(vhosts, `vhost "http"`):]
	for _, tc := range []ruleCase{
		{name: "tlsa", first: ec256, config: withoutTLSA},
		{name: "tlsa-forgotten", first: ec256, config: withoutTLSA + "\nremoved {\n  from    = tlsa.www\n  destroy = false\n}\n"},
		{name: "certificate-and-tlsa", first: ec256, config: onlyZoneAndCA},
		{name: "vhost", first: ec256 + vhosts, config: ec256 + strings.Replace(vhosts, httpVhost, "", 1) + strings.Replace(httpVhost, "  hsts_from      = vhost.https\n", "", 1)[:0]},
		{name: "apt-source-and-key", first: ec256 + aptPair, config: ec256},
	} {
		t.Run(tc.name, func(t *testing.T) { runCase(t, tc, "removal") })
	}
}

// TestRemovedForgets: removed { destroy = false } forgets at the next
// apply: state no longer holds the resource, the records stay in the zone,
// and with the removed block deleted afterwards nothing is planned.
func TestRemovedForgets(t *testing.T) {
	ec256 := strings.ReplaceAll(base, "KEYTYPE", "ec256")
	withoutTLSA := strings.Replace(ec256, ec256[strings.Index(ec256, `tlsa "www"`):], "", 1)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "zone"), []byte(zoneFile), 0o644)
	writeConfig(t, dir, ec256)
	p, run, _ := planIn(t, dir, engine.Options{})
	if _, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)}); err != nil {
		t.Fatal(err)
	}
	writeConfig(t, dir, withoutTLSA+"\nremoved {\n  from    = tlsa.www\n  destroy = false\n}\n")
	p, run, _ = planIn(t, dir, engine.Options{})
	if !slices.Equal(p.Forgets, []string{"tlsa.www"}) || !p.HasChanges() {
		t.Fatalf("the plan forgets %v", p.Forgets)
	}
	if _, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)}); err != nil {
		t.Fatal(err)
	}
	st, _ := state.Load(state.Path(filepath.Join(dir, ".trustform")))
	if st.Get("tlsa.www") != nil {
		t.Error("state still holds tlsa.www after the apply")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "zone")); !strings.Contains(string(b), "TLSA") {
		t.Error("the records were deleted")
	}
	writeConfig(t, dir, withoutTLSA)
	if p, _, _ := planIn(t, dir, engine.Options{}); p.HasChanges() {
		t.Errorf("with the removed block gone, the plan still has changes: %+v %v", p.Steps, p.Forgets)
	}
}
