package plan_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/internal/testutil"
	"github.com/trustform/trustform/providers"
)

// A 5,000-change plan stays under the comment limit and keeps every warning.
func TestMarkdownLargePlan(t *testing.T) {
	p := &plan.Plan{FormatVersion: plan.FormatVersion, Mode: "normal"}
	for i := range 5000 {
		addr := fmt.Sprintf("tlsa.host%04d", i)
		p.Changes = append(p.Changes, plan.Change{Address: addr, Type: "tlsa", Name: fmt.Sprintf("host%04d", i), Action: plan.Update,
			Before: providers.Value{"records": providers.List("3 1 1 " + strings.Repeat("a", 64))},
			After:  providers.Value{"records": providers.List("3 1 1 " + strings.Repeat("b", 64))}, Reasons: []string{"records differ from the configuration"}})
		phase, rule := "update", ""
		if i%100 == 0 { // every hundredth removes records: a warning each
			phase, rule = "prune", "tlsa-before-cert"
		}
		p.Steps = append(p.Steps, plan.Step{Index: i + 1, Address: addr, Action: plan.Update, Phase: phase, Rule: rule, DependsOn: []int{}})
	}
	p.Tally()
	var out bytes.Buffer
	if err := plan.WriteMarkdown(&out, p); err != nil {
		t.Fatal(err)
	}
	md := out.String()
	if len(md) >= plan.MarkdownLimit {
		t.Errorf("the comment has %d characters, the limit is %d", len(md), plan.MarkdownLimit)
	}
	for i := 0; i < 5000; i += 100 {
		if !strings.Contains(md, fmt.Sprintf("> - step %d: `tlsa.host%04d` removes TLSA records", i+1, i)) {
			t.Fatalf("the warning for step %d was cut", i+1)
		}
	}
	if !strings.Contains(md, "*Truncated:") {
		t.Error("the comment does not say it was truncated")
	}
	testutil.Golden(t, "markdown-5000", md)
}

// TestMarkdownQuotesServersAsText: what a server answered, or what a
// hostile plan file says, reaches the comment as text: no tag closes the
// folded block, no comment hides the rest, no image or link or mention is
// made of it, and no code span is closed early.
func TestMarkdownQuotesServersAsText(t *testing.T) {
	hostile := "404 x</summary></details><!-- hidden ![pixel](https://t.example/p.png) [click](https://evil.example) @org/admins `code` | cell"
	p := &plan.Plan{FormatVersion: plan.FormatVersion, Mode: "normal",
		Diagnostics: []plan.Diagnostic{{Severity: "warning", Summary: "vhost.http: " + hostile, Detail: hostile}},
		Changes:     []plan.Change{{Address: "tlsa.www", Type: "tlsa", Name: "www", Action: plan.Update, Reasons: []string{hostile}}},
		Steps:       []plan.Step{{Index: 1, Address: "tlsa.www", Action: plan.Update, Phase: "prune", Rule: "tlsa-before-cert", DependsOn: []int{}}},
	}
	p.Tally()
	var out bytes.Buffer
	if err := plan.WriteMarkdown(&out, p); err != nil {
		t.Fatal(err)
	}
	md := out.String()
	// Outside the diff's code fence (in which GitHub renders nothing).
	head, details, _ := strings.Cut(md, "<details><summary>Changes in detail</summary>")
	for _, bad := range []string{"</summary></details><!--", "![pixel]", "[click](", " @org/admins", "<!--"} {
		if strings.Contains(head, bad) {
			t.Errorf("the comment holds %q as Markdown:\n%s", bad, head)
		}
	}
	fence := "```diff"
	body, closing, ok := strings.Cut(details, fence)
	if !ok || strings.TrimSpace(body) != "" || !strings.HasSuffix(closing, "\n```\n\n</details>\n") {
		t.Errorf("the details are not one fenced block closed at its end:\n%s", details)
	}
}
