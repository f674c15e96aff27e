package plan_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trustform/trustform/engine/plan"
)

// A saved plan approves the engine's plan step for step. A time gate it
// shows may have opened while it was reviewed; a gate it does not show (an
// edited file) and any other difference make it stale.
func TestDiffers(t *testing.T) {
	at := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	step := func(edit func(*plan.Step)) *plan.Plan {
		s := plan.Step{Index: 1, Address: "certificate.www", Phase: "deploy-next", Rule: "tlsa-before-cert", NotBefore: &at}
		if edit != nil {
			edit(&s)
		}
		return &plan.Plan{Steps: []plan.Step{s}}
	}
	if got := plan.Differs(step(func(s *plan.Step) { s.NotBefore = nil }), step(nil)); !strings.Contains(got, "behind a time gate") {
		t.Errorf("a gate the saved plan does not show: %q", got)
	}
	for _, tc := range []struct {
		name string
		now  *plan.Plan
		want string
	}{
		{"the same plan", step(nil), ""},
		{"the time gate opened since", step(func(s *plan.Step) { s.NotBefore = nil }), ""},
		{"a later time", step(func(s *plan.Step) { later := at.Add(time.Hour); s.NotBefore = &later }), ""},
		{"another phase", step(func(s *plan.Step) { s.Phase = "publish" }), "step 1 is certificate.www deploy-next"},
		{"another rule", step(func(s *plan.Step) { s.Rule = "" }), "but the engine plans certificate.www deploy-next behind a time gate"},
		{"irreversible now", step(func(s *plan.Step) { s.Irreversible = true }), "(irreversible)"},
		{"a step more", &plan.Plan{Steps: append(step(nil).Steps, plan.Step{Index: 2, Address: "tlsa.www", Phase: "publish"})}, "the engine plans step 2 (tlsa.www publish)"},
	} {
		got := plan.Differs(step(nil), tc.now)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
