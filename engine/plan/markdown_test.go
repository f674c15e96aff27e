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
