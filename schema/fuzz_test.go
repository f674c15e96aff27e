package schema_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trustform/trustform/kinds"
)

// FuzzParse feeds arbitrary bytes to the decoder as native HCL and as JSON:
// it must return diagnostics, never panic.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/invalid/*")
	seeds = append(seeds, "../examples/quickstart/main.hcl", "../examples/fleet/main.hcl", "testdata/eval/constructs.hcl")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, name := range []string{"fuzz.hcl", "fuzz.hcl.json"} {
			cfg, diags := kinds.Parse("/fuzz", map[string][]byte{name: src})
			if cfg == nil && !diags.HasErrors() {
				t.Fatal("no configuration and no error")
			}
		}
	})
}
