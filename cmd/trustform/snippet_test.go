package main

import (
	"bytes"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// A diagnostic quoted from the trimmed file reads exactly as from the
// whole file: line numbers, highlights, the "in BLOCK" context.
func TestSnippetQuotesAsTheWholeFile(t *testing.T) {
	src := "# a fleet\nhost \"a\" {\n  root = \"out/a\"\n}\n\ncertificate \"www\" {\n  domains   = [\"www.example.test\",\n               \"ünïcödé.example.test\"]\n  cert_file = \"c.pem\"\n}\nlocal_ca \"ca\" {}"
	f, diags := hclparse.NewParser().ParseHCL([]byte(src), "main.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	files := map[string]*hcl.File{"main.hcl": f}
	at := func(b string) hcl.Pos {
		i := bytes.Index([]byte(src), []byte(b))
		line, col := 1, 1
		for _, c := range src[:i] {
			if c == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return hcl.Pos{Line: line, Column: col, Byte: i}
	}
	rng := func(from, to string) *hcl.Range {
		e := at(to)
		e.Byte += len(to)
		e.Column += len([]rune(to))
		return &hcl.Range{Filename: "main.hcl", Start: at(from), End: e}
	}
	for name, d := range map[string]*hcl.Diagnostic{
		"first line":            {Subject: rng("# a", "fleet")},
		"in a block":            {Subject: rng(`"out/a"`, `"out/a"`)},
		"over two lines":        {Subject: rng(`["www`, `test"]`)},
		"with context before":   {Subject: rng(`"ünï`, `test"]`), Context: rng("certificate", "{")},
		"last line, no newline": {Subject: rng(`local_ca`, `{}`)},
		"empty subject":         {Subject: &hcl.Range{Filename: "main.hcl", Start: at("cert_file"), End: at("cert_file")}},
	} {
		d.Severity, d.Summary, d.Detail = hcl.DiagWarning, "Something", "Detail."
		var whole, trimmed bytes.Buffer
		hcl.NewDiagnosticTextWriter(&whole, files, 100, true).WriteDiagnostic(d)
		quoted, qd := snippet(files, d)
		hcl.NewDiagnosticTextWriter(&trimmed, quoted, 100, true).WriteDiagnostic(qd)
		if whole.String() != trimmed.String() {
			t.Errorf("%s: from the trimmed file\n%s\nfrom the whole file\n%s", name, trimmed.String(), whole.String())
		}
		if quoted["main.hcl"] == f {
			t.Errorf("%s: the whole file was given", name)
		}
	}
}
