package schema_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"

	"github.com/trustform/trustform/kinds"
	"github.com/trustform/trustform/schema"
)

// The decoder decodes every block of the examples and of the invalid
// configurations as gohcl.DecodeBody does: the same values, ranges and
// diagnostics.
func TestDecoderAsGohcl(t *testing.T) {
	paths, _ := filepath.Glob("../examples/*/*.hcl")
	invalid, _ := filepath.Glob("testdata/invalid/*.hcl")
	srcs := map[string][]byte{"edge.hcl": []byte(decodeEdgeCases)}
	for _, path := range append(paths, invalid...) {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		srcs[path] = src
	}
	blocks := 0
	for path, src := range srcs {
		name := filepath.Base(path)
		cfg, _ := kinds.Parse(filepath.Dir(path), map[string][]byte{name: src})
		if cfg == nil || cfg.Files[name] == nil {
			continue
		}
		cfg.DecodeForTest(name, func(blk *hcl.Block, ours, theirs schema.Block, got hcl.Diagnostics, ctx *hcl.EvalContext) {
			want := gohcl.DecodeBody(blk.Body, ctx, theirs)
			label, decl := theirs.Header()
			if label != nil && len(blk.Labels) > 0 {
				*label = blk.Labels[0]
			}
			*decl = blk.DefRange
			at := fmt.Sprintf("%s: %s %v", path, blk.Type, blk.Labels)
			if !reflect.DeepEqual(ours, theirs) {
				t.Errorf("%s: decoded\n%+v\ngohcl\n%+v", at, ours, theirs)
			}
			if a, b := diagStrings(got), diagStrings(want); !slices.Equal(a, b) {
				t.Errorf("%s: diagnostics\n%q\ngohcl's\n%q", at, a, b)
			}
			blocks++
		})
	}
	if blocks < 100 {
		t.Errorf("only %d blocks compared", blocks)
	}
}

// diagStrings are diagnostics in a stable order (gohcl's follows a map).
func diagStrings(diags hcl.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		out = append(out, fmt.Sprintf("%d %s: %s (%v)", d.Severity, d.Summary, d.Detail, d.Subject))
	}
	slices.Sort(out)
	return out
}

// decodeEdgeCases are what the examples do not show: a duplicate nested
// block, values of the wrong type, a missing required attribute, an
// unknown one, a required nested attribute missing.
const decodeEdgeCases = `dns_zone "z" {
  name   = ["not", "a", "string"]
  server = "192.0.2.53:53"
  tsig {
    name = "a"
  }
  tsig {
    name = "b"
  }
}
vhost "v" {
  server  = "nginx"
  listen  = 443
  unknown = true
  hsts {
  }
}
certificate "c" {
  domains = "one.example"
}
`
