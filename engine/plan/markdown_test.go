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

// A rollover of 500 certificates (-replace over a for_each block): the
// comment stays under the limit with the steps table in it, the warning
// every certificate raises is listed once with its count, the 1,000 steps
// to review are grouped by what they do, and every fence and folded block
// is closed (nothing cut inside the chart or the diff).
func TestMarkdownFleetRollover(t *testing.T) {
	p := &plan.Plan{FormatVersion: plan.FormatVersion, Mode: "normal"}
	for i := range 500 {
		cert, tlsa := fmt.Sprintf(`certificate.site["host%03d"]`, i), fmt.Sprintf(`tlsa.site["host%03d"]`, i)
		p.Changes = append(p.Changes,
			plan.Change{Address: cert, Type: "certificate", Name: "site", Index: fmt.Sprintf("host%03d", i), Action: plan.Replace, Reasons: []string{"replacement of the key requested (-replace)"}},
			plan.Change{Address: tlsa, Type: "tlsa", Name: "site", Index: fmt.Sprintf("host%03d", i), Action: plan.Update, Reasons: []string{"records differ from the configuration"}})
		n := len(p.Steps)
		p.Steps = append(p.Steps,
			plan.Step{Index: n + 1, Address: cert, Action: plan.Replace, Phase: "stage-key", Rule: "tlsa-before-cert", DependsOn: []int{}},
			plan.Step{Index: n + 2, Address: tlsa, Action: plan.Update, Phase: "publish", Rule: "tlsa-before-cert", DependsOn: []int{n + 1}},
			plan.Step{Index: n + 3, Address: cert, Action: plan.Replace, Phase: "deploy-next", Rule: "tlsa-before-cert", DependsOn: []int{n + 2}},
			plan.Step{Index: n + 4, Address: tlsa, Action: plan.Update, Phase: "prune", Rule: "tlsa-before-cert", DependsOn: []int{n + 3}})
		p.Diagnostics = append(p.Diagnostics, plan.Diagnostic{Severity: "warning", Summary: "dns_zone.example has no nameservers", Detail: "rollover_wait counts from the write of the zone file."})
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
	for _, want := range []string{"#### Steps, in order", "**dns_zone.example has no nameservers**: rollover_wait counts from the write of the zone file. (×500)",
		"> - 500 steps (3, 7, 11, 15, 19, 23, 27, 31, 35, 39, …): `certificate.site[\"host000\"]`, ", "> - 500 steps (4, 8, 12,", "more steps: `trustform show PLANFILE` lists them"} {
		if !strings.Contains(md, want) {
			t.Errorf("the comment lacks %q", want)
		}
	}
	if strings.Count(md, "dns_zone.example has no nameservers") != 1 {
		t.Error("the repeated warning is listed more than once")
	}
	if strings.Count(md, "```")%2 != 0 || strings.Count(md, "<details>") != strings.Count(md, "</details>") {
		t.Errorf("a fence or a folded block is left open:\n%s", md[len(md)-500:])
	}
}
