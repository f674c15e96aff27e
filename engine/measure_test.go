package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/metrics"
	"github.com/trustform/trustform/providers"
)

// TestMeasure: the metrics of a run come from what it observed. After a
// key change stops at its gate, the gate's step is there with when it
// opens, the certificate with its expiry and renewal window, and nothing
// has drifted; a TLSA record changed behind trustform's back is drift of
// that RRset alone.
func TestMeasure(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "zone"), []byte(zoneFile), 0o644)
	writeConfig(t, dir, strings.Replace(base, "KEYTYPE", "ec256", 1))
	start := time.Now()
	apply := func() (*engine.Run, *engine.Outcome) {
		t.Helper()
		p, run, diags := planIn(t, dir, engine.Options{Now: func() time.Time { return start }})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		out, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)})
		if err != nil {
			t.Fatal(err)
		}
		return run, out
	}
	apply()
	writeConfig(t, dir, strings.Replace(base, "KEYTYPE", "ec384", 1))
	run, out := apply()
	got := samples(run.Measure(out.Held))
	for _, want := range []string{
		"trustform_drift{address=certificate.www kind=certificate} 0",
		"trustform_drift{address=tlsa.www kind=tlsa} 0",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %s in\n%s", want, got)
		}
	}
	gate := find(run.Measure(out.Held), metrics.GateOpens)
	if gate == nil || gate.Labels["address"] != "certificate.www" || time.Unix(int64(gate.Value), 0).Sub(out.OpensAt).Abs() > time.Second {
		t.Errorf("the held step's gate is %+v, want certificate.www opening at %s", gate, out.OpensAt)
	}
	notAfter, window := find(run.Measure(nil), providers.MetricCertificateNotAfter), find(run.Measure(nil), providers.MetricRenewalWindowStart)
	if notAfter == nil || window == nil || notAfter.Value-window.Value != (30*24*time.Hour).Seconds() {
		t.Errorf("not_after %+v and the renewal window %+v are not 30 days apart (renew_before's default)", notAfter, window)
	}

	zone, _ := os.ReadFile(filepath.Join(dir, "zone"))
	i := strings.Index(string(zone), "TLSA\t3 1 1 ")
	if i < 0 {
		t.Fatalf("no TLSA record in the zone:\n%s", zone)
	}
	changed := string(zone[:i]) + "TLSA\t3 1 1 " + strings.Repeat("ab", 32) + string(zone[i+len("TLSA\t3 1 1 ")+64:])
	os.WriteFile(filepath.Join(dir, "zone"), []byte(changed), 0o644)
	_, run, diags := planIn(t, dir, engine.Options{RefreshOnly: true, Now: func() time.Time { return start }})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	got = samples(run.Measure(nil))
	if !strings.Contains(got, "trustform_drift{address=tlsa.www kind=tlsa} 1") || !strings.Contains(got, "trustform_drift{address=certificate.www kind=certificate} 0") {
		t.Errorf("a TLSA record changed behind trustform's back is not that RRset's drift alone:\n%s", got)
	}
}

func samples(ss []providers.Sample) string {
	var b strings.Builder
	for _, s := range ss {
		fmt.Fprintf(&b, "%s{address=%s kind=%s} %g\n", s.Name, s.Labels["address"], s.Labels["kind"], s.Value)
	}
	return b.String()
}

func find(ss []providers.Sample, name string) *providers.Sample {
	for _, s := range ss {
		if s.Name == name {
			return &s
		}
	}
	return nil
}
