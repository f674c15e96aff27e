package engine

import (
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/plan"
)

// Approve makes the plan again and returns it when the saved plan approves
// exactly it, or says why not. apply PLANFILE carries out what was
// reviewed, so the configuration, the state and the observed world must all
// be those the plan was made from, and the steps the engine plans now must
// be the saved ones step for step. The saved file only approves: the steps
// that run are always the engine's. Observe must have run.
func (r *Run) Approve(saved *plan.Plan) (*plan.Plan, hcl.Diagnostics, string) {
	switch {
	case saved.Mode == "refresh-only":
		return nil, nil, "a refresh-only plan only reports drift"
	case variableChanged(saved.Variables, r.cfg.VariableRecord(r.st.VariableKey)) != "":
		return nil, nil, "var." + variableChanged(saved.Variables, r.cfg.VariableRecord(r.st.VariableKey)) + " is not the value the plan was made with (apply takes a plan's values from the file only when it is signed with this runner's plan key, and never a sensitive one: give the same -var again)"
	case saved.ConfigDigest != r.cfg.Digest:
		return nil, nil, "the configuration changed since the plan was made"
	case saved.Lineage == "" && r.st.Lineage != "":
		return nil, nil, fmt.Sprintf("the state changed since the plan was made (it was empty then; now at serial %d)", r.st.Serial)
	case saved.Lineage != r.st.Lineage:
		return nil, nil, "the state belongs to another lineage than the plan's"
	case saved.Serial != r.st.Serial:
		return nil, nil, fmt.Sprintf("the state changed since the plan was made (serial %d, the plan was made at %d)", r.st.Serial, saved.Serial)
	case saved.ObservedDigest != observedDigest(r.g):
		return nil, nil, "the live world changed since the plan was made (a record, file or key differs from what the plan observed)"
	case r.optionsDiffer(saved) != "":
		return nil, nil, r.optionsDiffer(saved)
	}
	p, diags := r.Plan()
	if diags.HasErrors() {
		return nil, diags, "the configuration no longer plans"
	}
	if why := plan.Differs(saved, p); why != "" {
		return nil, diags, "the plan file is not the plan it claims to be: " + why
	}
	return p, diags, ""
}

// WithSaved is o with the options a saved plan was made with, -replace,
// -revoke and -target: what the engine cannot recompute from the file.
// Only for a plan whose signature verified (plan.Verify): an unsigned
// file's options come from apply's command line, and Approve compares.
func (o Options) WithSaved(saved *plan.Plan) Options {
	o.Revoke, o.Replace, o.Targets, o.Destroy = saved.Revoke, nil, nil, saved.Mode == "destroy"
	for _, a := range saved.Replace {
		o.Replace = append(o.Replace, mustParse(a))
	}
	for _, a := range saved.Targets {
		o.Targets = append(o.Targets, mustParse(a))
	}
	return o
}

// optionsDiffer says how the options the plan was made with (-replace,
// -revoke, -target) differ from this run's, or "". They are what the engine
// cannot recompute: the run's come from a plan file only when its
// signature verifies, and from apply's command line otherwise.
func (r *Run) optionsDiffer(saved *plan.Plan) string {
	var replace, targets []string
	for _, a := range r.opts.Replace {
		replace = append(replace, a.String())
	}
	for _, a := range r.opts.Targets {
		targets = append(targets, a.String())
	}
	same := func(a, b []string) bool {
		return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
	}
	if (saved.Mode == "destroy") != r.opts.Destroy {
		return fmt.Sprintf("the plan was made %s -destroy and this apply runs %s it. A plan's -destroy is taken from the file only when it is signed with this runner's plan key (TRUSTFORM_PLAN_KEY or -plan-key-file); otherwise give apply the same options",
			map[bool]string{true: "with", false: "without"}[saved.Mode == "destroy"], map[bool]string{true: "with", false: "without"}[r.opts.Destroy])
	}
	if same(saved.Replace, replace) && same(saved.Targets, targets) && saved.Revoke == r.opts.Revoke {
		return ""
	}
	return fmt.Sprintf("the plan was made with %s and this apply runs with %s. A plan's -replace, -revoke and -target are taken from the file only when it is signed with this runner's plan key (TRUSTFORM_PLAN_KEY or -plan-key-file); otherwise give apply the same options",
		plan.Options(saved.Replace, saved.Revoke, saved.Targets), plan.Options(replace, r.opts.Revoke, targets))
}

// variableChanged names a variable whose value differs from the saved
// plan's, in name order, or "".
func variableChanged(saved, now map[string]string) string {
	var names []string
	for n := range saved {
		names = append(names, n)
	}
	for n := range now {
		if _, ok := saved[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		if saved[n] != now[n] {
			return n
		}
	}
	return ""
}
