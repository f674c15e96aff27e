package plan

import (
	"time"

	"github.com/trustform/trustform/providers"
)

// FormatVersion is the version of the plan JSON. Additions keep it; a
// change that breaks readers would bump the major number.
const FormatVersion = "1.0"

// Action is what a change does to a resource (the providers' vocabulary,
// so a provider's change and a plan's speak of the same actions).
type Action = providers.Action

// Actions.
const (
	Create  = providers.Create
	Update  = providers.Update
	Delete  = providers.Delete
	Replace = providers.Replace
	NoOp    = providers.NoOp
)

// Change is one resource going from Before to After. Before is nil when the
// resource does not exist; After holds unknown attributes where a value is
// only known once an earlier step has run.
type Change struct {
	Address string          `json:"address"`
	Type    string          `json:"type"`
	Name    string          `json:"name"`            // the block's label
	Index   string          `json:"index,omitempty"` // the for_each key of an instance
	Action  Action          `json:"action"`
	Before  providers.Value `json:"before"`
	After   providers.Value `json:"after"`
	Reasons []string        `json:"reasons"`
}

// Step is one unit of the apply, in execution order.
type Step struct {
	Index       int        `json:"index"`
	Address     string     `json:"address"`
	Action      Action     `json:"action"`
	Phase       string     `json:"phase"`
	Rule        string     `json:"rule"`
	DependsOn   []int      `json:"depends_on"`
	NotBefore   *time.Time `json:"not_before"`
	Description string     `json:"description"`
	// Gate says what NotBefore is computed from, so apply can recompute it
	// from state when the step is reached (a publish in the same run moves it).
	Gate []GateWait `json:"gate,omitempty"`
	// Irreversible: nothing undoes the step once it ran (a revocation).
	Irreversible bool `json:"irreversible,omitempty"`
	// Review: a reviewer should look at the step with care (Warnings
	// says why: a key that changes, TLSA records removed, who may issue
	// certificates).
	Review bool `json:"review,omitempty"`
}

// GateWait is one condition of a time gate: Record of the TLSA RRset at
// Address must have been visible for Wait.
type GateWait struct {
	Address string `json:"address"`
	Record  string `json:"record"`
	Wait    string `json:"wait"`
}

// Diagnostic is an hcl.Diagnostic as data.
type Diagnostic struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail"`
	Range    *Range `json:"range,omitempty"`
}

// Range is where in the configuration a diagnostic points.
type Range struct {
	Filename string `json:"filename"`
	Start    Pos    `json:"start"`
	End      Pos    `json:"end"`
}

// Pos is a line and column, both from 1, and the byte offset from 0.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// Summary counts changes by action, and steps waiting on a gate.
type Summary struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Delete  int `json:"delete"`
	Replace int `json:"replace"`
	Wait    int `json:"wait"`
	// Repair counts the state entries apply rewrites (StateRepairs).
	Repair int `json:"repair,omitempty"`
	Import int `json:"import,omitempty"` // Imports
}

// Plan is what plan computes and apply carries out.
type Plan struct {
	FormatVersion string `json:"format_version"`
	// TrustformVersion is the trustform that made the plan.
	TrustformVersion string    `json:"trustform_version"`
	Mode             string    `json:"mode"` // "normal", "refresh-only" or "destroy"
	CreatedAt        time.Time `json:"created_at"`
	Changes          []Change  `json:"changes"`
	Steps            []Step    `json:"steps"`
	// StateRepairs are state entries that disagree with a world needing no
	// change (a step recorded something other than what it made true, or
	// an apply stopped between its write and its record): apply rewrites
	// each from what was observed and changes nothing in the world.
	// Before is the entry, After the world.
	StateRepairs []Change `json:"state_repairs,omitempty"`
	// Imports are what import blocks take over as it is: apply records
	// each in state before its first step. After is what was observed.
	Imports []Change `json:"imports,omitempty"`
	// Forgets are the state entries apply drops: resources whose blocks
	// are gone and that are left in place (removed { destroy = false }, or
	// nothing to delete).
	Forgets     []string     `json:"forgets,omitempty"`
	Diagnostics []Diagnostic `json:"diagnostics"`
	Summary     Summary      `json:"summary"`

	// What the plan relied on; apply PLANFILE refuses it when any changed.
	ConfigDigest string `json:"config_digest"`
	// Variables are the values the plan was made with (JSON; a sensitive
	// one as its digest).
	Variables      map[string]string `json:"variables,omitempty"`
	Lineage        string            `json:"state_lineage"`
	Serial         int64             `json:"state_serial"`
	ObservedDigest string            `json:"observed_digest"`
	Replace        []string          `json:"replace,omitempty"`
	Revoke         string            `json:"revoke,omitempty"` // -revoke's reason
	Targets        []string          `json:"targets,omitempty"`
	// Signature authenticates a saved plan (sign.go): "hmac-sha256:HEX".
	Signature string `json:"signature,omitempty"`
}

// HasChanges reports whether applying the plan would do anything.
func (p *Plan) HasChanges() bool {
	return len(p.Steps) > 0 || len(p.StateRepairs) > 0 || len(p.Imports) > 0 || len(p.Forgets) > 0 || (p.Mode == "refresh-only" && len(p.Changes) > 0)
}

// Tally fills Summary from the changes and steps.
func (p *Plan) Tally() {
	p.Summary = Summary{}
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			p.Summary.Create++
		case Update:
			p.Summary.Update++
		case Delete:
			p.Summary.Delete++
		case Replace:
			p.Summary.Replace++
		}
	}
	for _, s := range p.Steps {
		if s.NotBefore != nil {
			p.Summary.Wait++
		}
	}
	p.Summary.Repair = len(p.StateRepairs)
	p.Summary.Import = len(p.Imports)
}

// Change returns the change for address, or nil.
func (p *Plan) Change(address string) *Change {
	for i := range p.Changes {
		if p.Changes[i].Address == address {
			return &p.Changes[i]
		}
	}
	return nil
}
