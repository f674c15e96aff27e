// Package promtest runs Debian's Prometheus and node exporter for tests,
// on loopback ports in temp directories: the node exporter with only its
// textfile collector, reading TextfileDir, and Prometheus scraping it
// every second and evaluating the given rule files every second. Query and
// Alerts ask Prometheus's HTTP API.
package promtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/trustform/trustform/internal/labutil"
)

// Lab is a running node exporter and Prometheus.
type Lab struct {
	TextfileDir string // where the node exporter reads *.prom files
	URL         string // Prometheus's HTTP API: http://127.0.0.1:PORT
}

// Start runs the node exporter and Prometheus with rules (absolute paths
// of rule files); both stop with the test.
func Start(t testing.TB, rules ...string) *Lab {
	t.Helper()
	exporter := labutil.Binary(t, "prometheus-node-exporter", "/usr/bin/prometheus-node-exporter")
	prom := labutil.Binary(t, "prometheus", "/usr/bin/prometheus")
	dir := t.TempDir()
	l := &Lab{TextfileDir: filepath.Join(dir, "textfile")}
	os.Mkdir(l.TextfileDir, 0o755)
	exporterAddr := fmt.Sprintf("127.0.0.1:%d", labutil.FreePort(t))
	labutil.Start(t, exec.Command(exporter, "--web.listen-address="+exporterAddr, "--collector.disable-defaults",
		"--collector.textfile", "--collector.textfile.directory="+l.TextfileDir))
	ruleList := ""
	for _, r := range rules {
		ruleList += fmt.Sprintf("  - %q\n", r)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
%sscrape_configs:
  - job_name: node
    static_configs:
      - targets: [%q]
`, ruleList, exporterAddr)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	promAddr := fmt.Sprintf("127.0.0.1:%d", labutil.FreePort(t))
	l.URL = "http://" + promAddr
	cmd := exec.Command(prom, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr)
	log, _ := os.Create(filepath.Join(dir, "prometheus.log"))
	cmd.Stdout, cmd.Stderr = log, log
	labutil.Start(t, cmd)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if r, err := http.Get(l.URL + "/-/ready"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
			t.Fatalf("Prometheus is not ready after 30 s:\n%s", b)
		}
	}
	return l
}

// Series is one series of a query's result: its labels and value.
type Series struct {
	Labels map[string]string
	Value  string
}

// Query evaluates an instant PromQL query.
func (l *Lab) Query(t testing.TB, q string) []Series {
	t.Helper()
	var resp struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	l.get(t, "/api/v1/query?query="+url.QueryEscape(q), &resp)
	var out []Series
	for _, r := range resp.Data.Result {
		v, _ := r.Value[1].(string)
		out = append(out, Series{Labels: r.Metric, Value: v})
	}
	return out
}

// Alert is one alert Prometheus holds: pending or firing.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
}

// Alerts lists the alerts that are pending or firing.
func (l *Lab) Alerts(t testing.TB) []Alert {
	t.Helper()
	var resp struct {
		Data struct {
			Alerts []Alert `json:"alerts"`
		} `json:"data"`
	}
	l.get(t, "/api/v1/alerts", &resp)
	return resp.Data.Alerts
}

func (l *Lab) get(t testing.TB, path string, v any) {
	t.Helper()
	r, err := http.Get(l.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}
