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

// A policy's change reads as a diff of the file in the comment: the line
// that goes, then the line that replaces it, in place, the others kept.
func TestMarkdownPolicyDiff(t *testing.T) {
	before := []string{"version: STSv1", "mode: testing", "mx: mail.example.test", "max_age: 604800"}
	after := []string{"version: STSv1", "mode: enforce", "mx: mail.example.test", "mx: *.mail.example.test", "max_age: 604800"}
	p := &plan.Plan{FormatVersion: plan.FormatVersion, Mode: "normal",
		Changes: []plan.Change{{Address: "mta_sts.example", Type: "mta_sts", Name: "example", Action: plan.Update,
			Before: providers.Value{"policy": providers.List(before...)}, After: providers.Value{"policy": providers.List(after...)}}},
		Steps: []plan.Step{{Index: 1, Address: "mta_sts.example", Action: plan.Update, Phase: "write-policy", DependsOn: []int{}}},
	}
	p.Tally()
	var out bytes.Buffer
	if err := plan.WriteMarkdown(&out, p); err != nil {
		t.Fatal(err)
	}
	want := "             \"version: STSv1\",\n-         - \"mode: testing\",\n+         + \"mode: enforce\",\n             \"mx: mail.example.test\",\n+         + \"mx: *.mail.example.test\",\n             \"max_age: 604800\",\n"
	if !strings.Contains(out.String(), want) {
		t.Errorf("the comment does not show the policy as a diff:\n%s", out.String())
	}
}
