package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
