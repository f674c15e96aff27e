package metrics_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustform/trustform/engine/metrics"
	"github.com/trustform/trustform/internal/labutil"
	"github.com/trustform/trustform/internal/testutil"
	"github.com/trustform/trustform/providers"
)

var at = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func sample(name string, value float64, labels ...string) providers.Sample {
	l := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		l[labels[i]] = labels[i+1]
	}
	return providers.Sample{Name: name, Labels: l, Value: value}
}

// fleet is one of each metric, as a run of a small fleet gives them.
func fleet() []providers.Sample {
	return []providers.Sample{
		sample(providers.MetricCertificateNotAfter, 1.8e9, "address", "certificate.www"),
		sample(providers.MetricRenewalWindowStart, 1.79e9, "address", "certificate.www"),
		sample(providers.MetricServedNotAfter, 1.8e9, "address", "vhost.www", "endpoint", "https://www.example.test:443"),
		sample(providers.MetricServedDeployed, 1, "address", "vhost.www", "endpoint", "https://www.example.test:443"),
		sample(providers.MetricTLSAMatch, 1, "address", "tlsa.www", "endpoint", "127.0.0.1:443", "server", "192.0.2.53:53"),
		sample(providers.MetricTLSAMatch, 0, "address", "tlsa.www", "endpoint", "127.0.0.1:443", "server", "192.0.2.54:53"),
		// Two RRsets of one zone on one server: the earliest expiry counts.
		sample(providers.MetricSignaturesExpire, 1.81e9, "address", "tlsa.www", "zone", "dns_zone.example", "server", "192.0.2.53:53"),
		sample(providers.MetricSignaturesExpire, 1.805e9, "address", "tlsa.mail", "zone", "dns_zone.example", "server", "192.0.2.53:53"),
		sample(providers.MetricMTASTSServed, 1, "address", "mta_sts.example"),
		sample(providers.MetricMTASTSMXCertificates, 1, "address", "mta_sts.example"),
		sample(metrics.Drift, 1, "address", "tlsa.www", "kind", "tlsa"),
		sample(metrics.GateOpens, 1.7652e9, "address", "tlsa.www", "phase", "prune"),
		sample(metrics.RevocationsPending, 1, "address", "certificate.www"),
	}
}

// The textfile of a run: every metric with its help, bounded labels, the
// earliest signature expiry per zone and server, and the run's outcome.
func TestWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trustform.prom")
	if err := metrics.Write(path, fleet(), metrics.Run{Command: "plan", At: at, OK: true, Observed: true}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	testutil.Golden(t, "fleet.prom", string(b))
	if strings.Contains(string(b), "1.81e+09") {
		t.Error("the later of two signature expiries of one zone and server was kept")
	}
	promtool := labutil.Binary(t, "promtool", "/usr/bin/promtool")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(string(b))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// One file for plan and apply: each keeps the other's last run; a failed
// run keeps the last success and, when it observed nothing, the file's
// other metrics; a metric not in the list is refused.
func TestWriteCarriesRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trustform.prom")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(metrics.Write(path, fleet(), metrics.Run{Command: "apply", At: at, OK: true, Observed: true}))
	must(metrics.Write(path, fleet()[:1], metrics.Run{Command: "plan", At: at.Add(time.Hour), OK: true, Observed: true}))
	must(metrics.Write(path, nil, metrics.Run{Command: "plan", At: at.Add(2 * time.Hour), OK: false}))
	b, _ := os.ReadFile(path)
	got := string(b)
	for _, want := range []string{
		`trustform_last_run_success{command="apply"} 1`,
		`trustform_last_run_success{command="plan"} 0`,
		`trustform_last_success_timestamp_seconds{command="apply"} 1.7966448e+09`,
		`trustform_last_success_timestamp_seconds{command="plan"} 1.7966484e+09`,
		`trustform_last_run_timestamp_seconds{command="plan"} 1.796652e+09`,
		`trustform_certificate_not_after_timestamp_seconds{address="certificate.www"} 1.8e+09`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the file does not hold %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, "trustform_drift") {
		t.Errorf("the plan that observed one certificate kept the apply's other metrics:\n%s", got)
	}
	if err := metrics.Write(path, []providers.Sample{{Name: "trustform_made_up"}}, metrics.Run{Command: "plan", At: at, OK: true, Observed: true}); err == nil {
		t.Error("a metric not in the list was written")
	}
}

// A file at the path that is not trustform's (a planted path, another
// exporter's textfile) is refused and left as it was.
func TestWriteRefusesForeignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.prom")
	foreign := "# HELP node_thing x\n# TYPE node_thing gauge\nnode_thing 1\n"
	os.WriteFile(path, []byte(foreign), 0o644)
	err := metrics.Write(path, fleet(), metrics.Run{Command: "plan", At: at, OK: true, Observed: true})
	if err == nil || !strings.Contains(err.Error(), "not trustform's metrics") {
		t.Errorf("Write = %v, want a refusal", err)
	}
	if b, _ := os.ReadFile(path); string(b) != foreign {
		t.Errorf("the foreign file was changed:\n%s", b)
	}
}

// docs/metrics.md lists exactly the metrics written, with their labels.
func TestDocsListEveryMetric(t *testing.T) {
	b, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, m := range metrics.Metrics {
		labels := make([]string, len(m.Labels))
		for i, l := range m.Labels {
			labels[i] = "`" + l + "`"
		}
		row := "| `" + m.Name + "` | " + strings.Join(labels, ", ") + " |"
		if !strings.Contains(doc, row) {
			t.Errorf("docs/metrics.md has no row %s", row)
		}
	}
	if n := strings.Count(doc, "\n| `trustform_"); n != len(metrics.Metrics) {
		t.Errorf("docs/metrics.md lists %d metrics, the code writes %d", n, len(metrics.Metrics))
	}
}
