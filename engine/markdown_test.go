package engine_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/internal/testutil"
)

// TestMarkdown renders the pull-request comment of typical plans.
func TestMarkdown(t *testing.T) {
	ec256 := strings.ReplaceAll(base, "KEYTYPE", "ec256")
	ec384 := strings.ReplaceAll(base, "KEYTYPE", "ec384")
	weakHSTS := strings.Replace(strings.Replace(vhosts, "include_subdomains = true", "include_subdomains = false", 1), "preload            = true", "preload            = false", 1)
	for _, tc := range []struct{ name, first, config string }{
		{"no-changes", ec256, ec256},
		{"first-deployment", "", ec256 + vhosts + aptPair},
		{"dane-rollover", ec256 + vhosts, ec384 + vhosts},
		{"hsts-preload-switch", ec256 + weakHSTS, ec256 + vhosts},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "zone"), []byte(zoneFile), 0o644)
			key, _ := os.ReadFile(filepath.Join("..", "examples", "quickstart", "keys", "example-archive.asc"))
			os.WriteFile(filepath.Join(dir, "key.asc"), key, 0o644)
			if tc.first != "" {
				writeConfig(t, dir, tc.first)
				p, run, _ := planIn(t, dir, engine.Options{})
				if _, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)}); err != nil {
					t.Fatal(err)
				}
			}
			writeConfig(t, dir, tc.config)
			p, _, diags := planIn(t, dir, engine.Options{})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			var out bytes.Buffer
			if err := plan.WriteMarkdown(&out, p); err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, "markdown/"+tc.name, testutil.Normalize(out.String(), dir))
		})
	}
}
