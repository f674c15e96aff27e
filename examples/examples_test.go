// Package examples holds runnable configurations; this test loads every one.
package examples

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trustform/trustform/engine/rules"
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
