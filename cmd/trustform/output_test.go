package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestLabelsAndControlCharacters: a value with terminal escapes or Markdown
// of its own (here the local CA's common name, which reaches the plan)
// cannot hide lines above the approval prompt, fake a verdict in the
// pull-request comment, or close its code block.
func TestLabelsAndControlCharacters(t *testing.T) {
	dir := quickstart(t)
	cfg := filepath.Join(dir, "main.hcl")
	b, _ := os.ReadFile(cfg)
	hostile := `Example\u001b[2K\u001b[1A CA\u202e` + "```" + `\n### trustform plan: no changes ✅\n<!--`
	os.WriteFile(cfg, []byte(strings.Replace(string(b), `common_name = "Example Test CA"`, `common_name = "`+hostile+`"`, 1)), 0o644)

	text := tf(t, dir, "plan")
	mustCode(t, text, 0, "plan")
	if strings.ContainsAny(text.stdout+text.stderr, "\x1b\u202e") {
		t.Errorf("the text plan carries raw control characters:\n%q", text.stdout)
	}
	if !strings.Contains(text.stdout, `\x1b[2K`) {
		t.Errorf("the escape is not shown escaped:\n%s", text.stdout)
	}

	md := tf(t, dir, "plan", "-markdown")
	mustCode(t, md, 0, "plan -markdown")
	headings := 0
	for _, l := range strings.Split(md.stdout, "\n") {
		if strings.HasPrefix(l, "### ") {
			headings++
		}
	}
	if headings != 1 || strings.ContainsAny(md.stdout, "\x1b\u202e") {
		t.Errorf("the comment has %d verdicts or raw control characters:\n%s", headings, md.stdout)
	}
	if !strings.Contains(md.stdout, "````diff") {
		t.Errorf("the details fence does not outgrow the value's backticks:\n%s", md.stdout)
	}
}

// Beyond maxSimilar warnings of one kind, the first stands for the rest,
// naming them; warnings that differ only in the names they quote are one
// kind (2,000 of them, each quoting its file, took minutes); other kinds
// and -compact-warnings are untouched.
func TestSimilarWarningsConsolidated(t *testing.T) {
	var diags hcl.Diagnostics
	for i := range 8 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: fmt.Sprintf("tlsa.h%d_smtp: DANE for SMTP in a zone not required to be signed", i), Detail: "Sign the zone."})
	}
	for i := range 8 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: fmt.Sprintf("tlsa.h%d_smtp: mx.h%d.example.test. is not an MX host", i, i), Detail: "Point it at an MX."})
	}
	diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "vhost.a: another finding", Detail: "x"})
	var stderr bytes.Buffer
	e := env{stderr: &stderr, getenv: func(string) string { return "" }}
	printDiags(e, &common{}, nil, diags, true)
	out := stderr.String()
	if n, m := strings.Count(out, "DANE for SMTP"), strings.Count(out, "is not an MX host"); n != 1 || m != 1 {
		t.Errorf("%d and %d full warnings of the two kinds, want 1 each:\n%s", n, m, out)
	}
	for _, want := range []string{"(and 7 more similar warnings: tlsa.h1_smtp, tlsa.h2_smtp", "tlsa.h7_smtp)", "vhost.a: another finding"} {
		if !strings.Contains(strings.ReplaceAll(out, "\n", " "), want) {
			t.Errorf("the warnings lack %q:\n%s", want, out)
		}
	}
	stderr.Reset()
	printDiags(e, &common{compactWarnings: true}, nil, diags, true)
	if n := strings.Count(stderr.String(), "DANE for SMTP"); n != 8 {
		t.Errorf("-compact-warnings shows %d of 8 warnings", n)
	}
}
