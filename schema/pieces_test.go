package schema

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// samePieces checks that src cut at every top-level block parses as one
// parse of it does: the same body (blocks, attributes, every range), the
// same "in BLOCK" context, or, when one parse reports anything, no join.
func samePieces(t *testing.T, src []byte) {
	t.Helper()
	starts := pieceStarts(src, 1)
	if len(starts) < 2 {
		return
	}
	whole, diags := hclsyntax.ParseConfig(src, "f.hcl", hcl.InitialPos)
	joined, ok := parsePieces(src, "f.hcl", starts)
	if len(diags) > 0 {
		if ok {
			t.Fatalf("one parse reports %v; the %d pieces were joined:\n%q", diags, len(starts), src)
		}
		return
	}
	if !ok {
		t.Fatalf("one parse reports nothing; the %d pieces were not joined:\n%q", len(starts), src)
	}
	if !reflect.DeepEqual(whole.Body, joined.Body) {
		t.Fatalf("the %d pieces' body differs from one parse's:\n%q", len(starts), src)
	}
	type nav interface {
		ContextString(int) string
		ContextDefRange(int) hcl.Range
	}
	for _, off := range []int{-1, 0, len(src) / 3, len(src) / 2, len(src) - 1, len(src)} {
		w, j := whole.Nav.(nav), joined.Nav.(nav)
		if w.ContextString(off) != j.ContextString(off) || w.ContextDefRange(off) != j.ContextDefRange(off) {
			t.Fatalf("context at %d: %q %v, one parse %q %v", off, j.ContextString(off), j.ContextDefRange(off), w.ContextString(off), w.ContextDefRange(off))
		}
	}
}

func TestPiecesParseAsOne(t *testing.T) {
	var fleet strings.Builder
	for i := range 50 {
		fmt.Fprintf(&fleet, "certificate \"h%d\" {\n  domains = [\"h%d.example.test\"] # a comment }\n  issuer  = local_ca.ca\n}\n\n/* a } comment */\n", i, i)
	}
	quickstart, _ := os.ReadFile("../examples/quickstart/main.hcl")
	for name, src := range map[string]string{
		"fleet":              fleet.String(),
		"quickstart":         string(quickstart),
		"attributes between": "a = {\n  b = 1\n}\nc \"d\" {\n}\ne = [1]\nf {}\ng = 2\n",
		"no newline at end":  "a {\n}\nb {\n}",
		"one line blocks":    "a { x = 1 }\nb { y = \"}\" }\nc { z = 3 }\n",
		"error in a piece":   "a {\n}\nb {\n  x = \n}\nc {\n}\n",
		"attribute twice":    "a = {\n}\nb {\n}\na = {\n}\n",
		"continued":          "a = {\n}\n? 1 : 2\nb {\n}\n",
		"unicode":            "é \"ü\" {\n  x = \"ö\"\n}\nß {\n}\n",
	} {
		t.Run(name, func(t *testing.T) { samePieces(t, []byte(src)) })
	}
}

// A large file is parsed in pieces through parseHCL and registered with
// the parser, where the configuration's diagnostics find its source.
func TestLargeFileParsedInPieces(t *testing.T) {
	var src strings.Builder
	for i := 0; src.Len() < 3*pieceSize; i++ {
		fmt.Fprintf(&src, "local_ca \"ca%d\" {\n  common_name = \"CA %d\"\n}\n", i, i)
	}
	parser := hclparse.NewParser()
	f, diags := parseHCL(parser, []byte(src.String()), "big.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if _, ok := f.Nav.(piecesNav); !ok {
		t.Fatalf("a %d-byte file was parsed in one piece", src.Len())
	}
	if parser.Files()["big.hcl"] != f {
		t.Error("the file parsed in pieces is not the parser's")
	}
	samePieces(t, []byte(src.String()))
}

// FuzzPieces: whatever the source, parsing it in pieces gives what one
// parse gives, or leaves the file to one parse.
func FuzzPieces(f *testing.F) {
	quickstart, _ := os.ReadFile("../examples/quickstart/main.hcl")
	for _, s := range []string{
		string(quickstart), "a {\n}\nb {\n}\n", "a = {\n}\nb = 1\n", "a {\n  b = \"}\"\n}\nc {\n}\n",
		"a {\n}\n# }\nb {\n}\n", "a {\n}\n/* }\n */ b {\n}\n", "a = [{\n}\n]\nb {\n}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 4096 {
			return
		}
		samePieces(t, src)
	})
}
