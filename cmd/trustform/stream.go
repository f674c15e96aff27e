package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/internal/version"
	"github.com/trustform/trustform/schema"
)

// stream is Terraform's machine-readable UI for plan -json and apply
// -json: one JSON object per line on stdout, each with @level, @message,
// @module, @timestamp and a type that says which other key it carries
// (docs/plan-json.md, "The -json stream"). Nothing else is written to
// stdout while it is on.
type stream struct {
	w     io.Writer
	now   func() time.Time
	steps map[int]plan.Step
	// started is when each step started; waited when a wait of it was last
	// sent, and for what (a wait repeats every second; the stream says it
	// when it changes and then every ten seconds, as Terraform does).
	started map[int]time.Time
	waited  map[int]time.Time
	waitKey map[int]string
}

// uiVersion is the version of the stream's messages, Terraform's.
const uiVersion = "1.2"

// repeatWait is how often an unchanged wait is sent again.
const repeatWait = 10 * time.Second

func newStream(w io.Writer, now func() time.Time) *stream {
	return &stream{w: w, now: now, started: map[int]time.Time{}, waited: map[int]time.Time{}, waitKey: map[int]string{}}
}

// uiMessage is one line of the stream; type says which of the optional
// keys it carries.
type uiMessage struct {
	Level     string `json:"@level"`
	Message   string `json:"@message"`
	Module    string `json:"@module"`
	Timestamp string `json:"@timestamp"`
	Type      string `json:"type"`

	Trustform  string          `json:"trustform,omitempty"` // version
	UI         string          `json:"ui,omitempty"`        // version
	Change     *uiChange       `json:"change,omitempty"`    // planned_change, resource_drift
	Hook       *uiHook         `json:"hook,omitempty"`      // apply_*
	Changes    *uiSummary      `json:"changes,omitempty"`   // change_summary
	Outputs    *map[string]any `json:"outputs,omitempty"`   // outputs
	Diagnostic *uiDiagnostic   `json:"diagnostic,omitempty"`
}

// uiResource names a resource as Terraform's stream does.
type uiResource struct {
	Addr            string  `json:"addr"`
	Module          string  `json:"module"`
	Resource        string  `json:"resource"`
	ImpliedProvider string  `json:"implied_provider"`
	ResourceType    string  `json:"resource_type"`
	ResourceName    string  `json:"resource_name"`
	ResourceKey     *string `json:"resource_key"`
}

type uiChange struct {
	Resource uiResource `json:"resource"`
	Action   string     `json:"action"`
	Reasons  []string   `json:"reasons,omitempty"` // trustform's: why the change is needed
}

type uiHook struct {
	Resource       uiResource `json:"resource"`
	Action         string     `json:"action"`
	Step           int        `json:"step"`  // trustform's: the step's index in the plan
	Phase          string     `json:"phase"` // trustform's: what the step does
	ElapsedSeconds *int       `json:"elapsed_seconds,omitempty"`
}

// uiSummary is change_summary's counts in Terraform's terms (a replace
// is one to add and one to remove), with trustform's beside them.
type uiSummary struct {
	Add       int    `json:"add"`
	Change    int    `json:"change"`
	Import    int    `json:"import"`
	Remove    int    `json:"remove"`
	Forget    int    `json:"forget"`
	Operation string `json:"operation"` // "plan", "apply" or "refresh-only"

	Steps   int        `json:"steps"`              // plan: the steps apply would run
	Wait    int        `json:"wait"`               // plan: steps behind a time gate
	Applied int        `json:"applied,omitempty"`  // apply: steps carried out
	Held    []uiHeld   `json:"held,omitempty"`     // apply: steps left for a later apply
	OpensAt *time.Time `json:"opens_at,omitempty"` // apply: when the earliest held gate opens
	Lagging []string   `json:"lagging,omitempty"`  // apply: servers that do not serve the new records yet
}

type uiHeld struct {
	Step    int    `json:"step"`
	Address string `json:"address"`
	Phase   string `json:"phase"`
}

func (s *stream) send(level, typ, message string, m uiMessage) {
	m.Level, m.Type, m.Message, m.Module = level, typ, message, "trustform.ui"
	m.Timestamp = s.now().UTC().Format(time.RFC3339Nano)
	b, err := json.Marshal(m)
	if err != nil { // every field is a plain value: cannot happen
		panic(err)
	}
	s.w.Write(append(b, '\n'))
}

// version is the stream's first line.
func (s *stream) version() {
	s.send("info", "version", "trustform "+version.String(), uiMessage{Trustform: version.String(), UI: uiVersion})
}

// diagnostics sends each diagnostic with the source it points at.
func (s *stream) diagnostics(files map[string]*hcl.File, diags hcl.Diagnostics) {
	for _, d := range diags {
		ud := jsonDiagnostic(files, d)
		level, prefix := "error", "Error: "
		if d.Severity == hcl.DiagWarning {
			level, prefix = "warn", "Warning: "
		}
		s.send(level, "diagnostic", prefix+d.Summary, uiMessage{Diagnostic: &ud})
	}
}

// planned sends the plan's changes and its summary. A refresh-only plan's
// changes are drift (resource_drift), as Terraform says them.
func (s *stream) planned(p *plan.Plan) {
	s.steps = map[int]plan.Step{}
	for _, st := range p.Steps {
		s.steps[st.Index] = st
	}
	typ, verb, op := "planned_change", "Plan to ", "plan"
	if p.Mode == "refresh-only" {
		typ, verb, op = "resource_drift", "Drift detected ", "refresh-only"
	}
	send := func(address, action string, reasons []string) {
		s.send("info", typ, address+": "+verb+action, uiMessage{Change: &uiChange{Resource: resourceOf(address), Action: action, Reasons: reasons}})
	}
	for _, c := range p.Changes {
		if c.Action != plan.NoOp {
			send(c.Address, uiAction(c.Action), c.Reasons)
		}
	}
	for _, c := range p.Imports {
		send(c.Address, "import", c.Reasons)
	}
	for _, a := range p.Forgets {
		send(a, "remove", nil)
	}
	sum := p.Summary
	message := p.SummaryLine()
	if !p.HasChanges() {
		message = "No changes. The live world matches the configuration."
	}
	s.send("info", "change_summary", message, uiMessage{Changes: &uiSummary{
		Add: sum.Create + sum.Replace, Change: sum.Update, Remove: sum.Delete + sum.Replace,
		Import: sum.Import, Forget: len(p.Forgets), Operation: op, Steps: len(p.Steps), Wait: sum.Wait,
	}})
}

// event sends what an apply reports as it goes.
func (s *stream) event(ev engine.Event) {
	now := s.now()
	st, ok := s.steps[ev.Step]
	if !ok {
		s.send("info", "log", ev.Text, uiMessage{})
		return
	}
	hook := &uiHook{Resource: resourceOf(st.Address), Action: uiAction(st.Action), Step: st.Index, Phase: st.Phase}
	elapsed := func() *int { n := int(now.Sub(s.started[ev.Step]).Seconds()); return &n }
	switch ev.Kind {
	case engine.EventStep:
		s.started[ev.Step] = now
		s.send("info", "apply_start", ev.Text, uiMessage{Hook: hook})
	case engine.EventDone:
		hook.ElapsedSeconds = elapsed()
		s.send("info", "apply_complete", ev.Text, uiMessage{Hook: hook})
	case engine.EventWait:
		if ev.Key == s.waitKey[ev.Step] && now.Sub(s.waited[ev.Step]) < repeatWait {
			return
		}
		s.waited[ev.Step], s.waitKey[ev.Step] = now, ev.Key
		if _, ok := s.started[ev.Step]; !ok {
			s.started[ev.Step] = now // a gate waits before its step starts
		}
		hook.ElapsedSeconds = elapsed()
		s.send("info", "apply_progress", ev.Text, uiMessage{Hook: hook})
	default:
		s.send("info", "log", ev.Text, uiMessage{})
	}
}

// applied sends how an apply ended: the failed step and its error, or
// the summary of what ran and what waits for a later apply.
func (s *stream) applied(p *plan.Plan, out *engine.Outcome, err error) {
	if err != nil {
		d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Apply failed", Detail: err.Error() +
			"\n\nProgress up to the failed step is saved; the resources of that step keep what they had. Fix the cause and run apply again."}
		if out != nil && out.Failed != nil {
			f := out.Failed
			elapsed := int(s.now().Sub(s.started[f.Index]).Seconds())
			s.send("error", "apply_errored", fmt.Sprintf("%s: step %d (%s) failed", f.Address, f.Index, f.Phase), uiMessage{Hook: &uiHook{
				Resource: resourceOf(f.Address), Action: uiAction(f.Action), Step: f.Index, Phase: f.Phase, ElapsedSeconds: &elapsed}})
		}
		s.diagnostics(nil, hcl.Diagnostics{d})
		return
	}
	sum := &uiSummary{Operation: "apply", Applied: out.Applied}
	held := map[string]bool{}
	for _, h := range out.Held {
		held[h.Address] = true
		sum.Held = append(sum.Held, uiHeld{h.Index, h.Address, h.Phase})
	}
	for _, c := range p.Changes { // a resource counts once all its steps ran
		if held[c.Address] {
			continue
		}
		switch c.Action {
		case plan.Create:
			sum.Add++
		case plan.Update:
			sum.Change++
		case plan.Delete:
			sum.Remove++
		case plan.Replace:
			sum.Add++
			sum.Remove++
		}
	}
	sum.Import, sum.Forget = len(p.Imports), len(p.Forgets)
	message := fmt.Sprintf("Apply complete! Resources: %d added, %d changed, %d destroyed; %d step(s) applied.", sum.Add, sum.Change, sum.Remove, out.Applied)
	if len(out.Held) > 0 {
		message += fmt.Sprintf(" %d step(s) wait for a gate: run apply again later.", len(out.Held))
		sum.Lagging = out.Lagging
		if !out.OpensAt.IsZero() {
			t := out.OpensAt.UTC()
			sum.OpensAt = &t
		}
	}
	s.send("info", "change_summary", message, uiMessage{Changes: sum})
}

// outputs ends the stream as Terraform's does.
func (s *stream) outputs(values map[string]any) {
	if values == nil {
		values = map[string]any{}
	}
	s.send("info", "outputs", "Outputs: "+strconv.Itoa(len(values)), uiMessage{Outputs: &values})
}

// uiAction is an action as Terraform's stream spells it.
func uiAction(a plan.Action) string {
	if a == plan.NoOp {
		return "noop"
	}
	return string(a)
}

// resourceOf splits an address (TYPE.NAME or TYPE.NAME["KEY"]).
func resourceOf(addr string) uiResource {
	r := uiResource{Addr: addr, Resource: addr, ImpliedProvider: "trustform"}
	typ, name, _ := strings.Cut(addr, ".")
	base, key, inst := schema.SplitInstance(name)
	if inst {
		r.ResourceKey = &key
	}
	r.ResourceType, r.ResourceName = typ, base
	return r
}
