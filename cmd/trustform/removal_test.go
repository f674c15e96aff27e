package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRemovalDeletes: deleting tlsa "www_https" from the quickstart plans
// the deletion of its record (in text, and in Markdown with the warning,
// never "no changes"); apply removes it from the zone file and forgets the
// resource; the next plan is empty. A removed block with destroy = false
// forgets the APT source instead and leaves its file.
func TestRemovalDeletes(t *testing.T) {
	dir := quickstart(t)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "first apply")
	cfgPath := filepath.Join(dir, "main.hcl")
	cfg, _ := os.ReadFile(cfgPath)
	block := func(s, start string) string {
		i := strings.Index(s, start)
		j := strings.Index(s[i:], "\n}\n")
		return s[i : i+j+3]
	}
	src := strings.Replace(string(cfg), block(string(cfg), `tlsa "www_https" {`), "", 1)
	src = strings.Replace(src, block(src, `apt_source "example" {`), "removed {\n  from    = apt_source.example\n  destroy = false\n}\n", 1)
	os.WriteFile(cfgPath, []byte(src), 0o644)

	r := tf(t, dir, "plan", "-markdown")
	mustCode(t, r, 0, "plan -markdown")
	if strings.Contains(r.stdout, "no changes") || !strings.Contains(r.stdout, "tlsa.www_https is no longer in the configuration: it is deleted") ||
		!strings.Contains(r.stdout, "apt_source.example is forgotten") {
		t.Errorf("the Markdown plan does not show the deletion and the forgetting:\n%s", r.stdout)
	}
	r = tf(t, dir, "plan", "-detailed-exitcode")
	mustCode(t, r, 2, "plan")
	if !strings.Contains(r.stdout, "- tlsa.www_https  delete") {
		t.Errorf("the text plan has no delete step:\n%s", r.stdout)
	}
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply the deletion")
	zone, _ := os.ReadFile(filepath.Join(dir, "example.test.zone"))
	if strings.Contains(string(zone), "_443._tcp.www") {
		t.Errorf("the record is still in the zone file:\n%s", zone)
	}
	if !strings.Contains(string(zone), "_25._tcp.mail") {
		t.Errorf("the other TLSA RRset went too:\n%s", zone)
	}
	if _, err := os.Stat(filepath.Join(dir, "out/etc/apt/sources.list.d/example.sources")); err != nil {
		t.Errorf("the forgotten APT source was deleted: %v", err)
	}
	st, _ := os.ReadFile(filepath.Join(dir, ".trustform/state.json"))
	if strings.Contains(string(st), "tlsa.www_https") || strings.Contains(string(st), `"apt_source.example"`) {
		t.Errorf("the state still holds what was deleted or forgotten:\n%s", st)
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the deletion")
}
