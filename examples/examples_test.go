// Package examples holds runnable configurations; this test loads every one.
package examples

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/trustform/trustform/engine/rules"
	"github.com/trustform/trustform/internal/labutil"
	"github.com/trustform/trustform/kinds"
	"github.com/trustform/trustform/schema"
)

// TestExamplesLoad validates every example directory, as `trustform
// validate` does. (Planning needs what some examples start first, such as
// the BIND servers of dane-bind; their own tests plan them.)
func TestExamplesLoad(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		names, _ := schema.ConfigFiles(e.Name())
		if len(names) == 0 {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			cfg, diags := kinds.Load(e.Name(), schema.Inputs{})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if diags := rules.Refuse(cfg); diags.HasErrors() {
				t.Fatal(diags)
			}
			if _, err := os.Stat(filepath.Join(e.Name(), "README.md")); err != nil {
				t.Errorf("example %s has no README.md", e.Name())
			}
		})
	}
	if n == 0 {
		t.Fatal("no examples found")
	}
}

// TestMonitoringAlerts: the alert rules of examples/monitoring load, and
// their unit tests pass, with Prometheus's own promtool.
func TestMonitoringAlerts(t *testing.T) {
	promtool := labutil.Binary(t, "promtool", "/usr/bin/promtool")
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "monitoring"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}
