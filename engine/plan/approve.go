package plan

import (
	"fmt"
	"slices"
)

// Differs says how the steps of saved differ from those of planned, or ""
// when they are the same step for step: address, action, phase, rule,
// dependencies, gate and order. A gate's time is not compared: before its
// records are published it is an estimate from the clock, and the gate
// that holds the step is the engine's own. A time gate the saved plan
// shows may have opened while the plan was reviewed; one the engine plans
// that the saved plan does not show makes it stale. A saved plan approves
// the engine's plan; it never says what to run.
func Differs(saved, planned *Plan) string {
	n := max(len(saved.Steps), len(planned.Steps))
	for i := range n {
		switch {
		case i >= len(saved.Steps):
			return fmt.Sprintf("the engine plans step %d (%s) that the saved plan does not have", i+1, describe(planned.Steps[i]))
		case i >= len(planned.Steps):
			return fmt.Sprintf("the saved plan has step %d (%s) that the engine does not plan", i+1, describe(saved.Steps[i]))
		}
		a, b := saved.Steps[i], planned.Steps[i]
		if !sameStep(a, b) {
			return fmt.Sprintf("step %d is %s in the saved plan, but the engine plans %s", i+1, describe(a), describe(b))
		}
	}
	if a, b := addresses(saved.StateRepairs), addresses(planned.StateRepairs); !slices.Equal(a, b) {
		return fmt.Sprintf("the saved plan repairs the state of %v, and the engine would repair %v", a, b)
	}
	if !slices.Equal(saved.Forgets, planned.Forgets) {
		return fmt.Sprintf("the saved plan forgets %v, and the engine would forget %v", saved.Forgets, planned.Forgets)
	}
	if a, b := addresses(saved.Imports), addresses(planned.Imports); !slices.Equal(a, b) {
		return fmt.Sprintf("the saved plan imports %v, and the engine would import %v", a, b)
	}
	return ""
}

func addresses(cs []Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Address
	}
	return out
}

func sameStep(a, b Step) bool {
	return a.Index == b.Index && a.Address == b.Address && a.Action == b.Action && a.Phase == b.Phase &&
		a.Rule == b.Rule && slices.Equal(a.DependsOn, b.DependsOn) && slices.Equal(a.Gate, b.Gate) &&
		(a.NotBefore != nil || b.NotBefore == nil) && a.Irreversible == b.Irreversible
}

func describe(s Step) string {
	d := s.Address + " " + s.Phase
	if s.Rule != "" {
		d += " [" + s.Rule + "]"
	}
	if s.NotBefore != nil {
		d += " behind a time gate"
	}
	if s.Irreversible {
		d += " (irreversible)"
	}
	if len(s.DependsOn) > 0 {
		d += fmt.Sprintf(" after %v", s.DependsOn)
	}
	return d
}
