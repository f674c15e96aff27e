// Package rules holds the named rules, one file each. Every ordering
// decision, refusal and warning a rule causes carries its name, so a reader
// of a plan knows why a step comes where it does.
//
// A rule is a constant with its name and the hooks it needs: Refuser
// refuses a configuration outright (a diagnostic at the block concerned),
// LiveChecker warns about what running servers answer, Layouter lays out a
// change's steps itself, Orderer adds steps, edges and gates to the plan,
// Guarder refuses a plan whose steps the world does not allow yet.
// The engine asks every rule of All for the hooks it implements.
package rules

import (
	"context"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// Rule is one named rule.
type Rule interface {
	// Name is the rule's name as plans, diagnostics and docs spell it.
	Name() string
}

// Refuser is a rule that can refuse a configuration before anything is observed.
type Refuser interface {
	Rule
	Refuse(cfg *schema.Config) hcl.Diagnostics
}

// All lists every rule, in the order their diagnostics are reported.
func All() []Rule {
	return []Rule{CipherConsistency, HSTSOnHTTPVhost, ACMEChallengeNotRedirected, TLSABeforeCert, APTKeyBeforeSource, RevokeAfterServed, DNSSECChainValid, CAABeforeOrder, FallbackCAPinned, MTASTSPolicyBeforeID, MTASTSMXCovered}
}

// Refuse runs every rule that can refuse a configuration.
func Refuse(cfg *schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, r := range All() {
		if rf, ok := r.(Refuser); ok {
			diags = append(diags, rf.Refuse(cfg)...)
		}
	}
	return diags
}

// refusal is an error diagnostic of rule at rng; its summary starts with the
// rule's name.
func refusal(r Rule, rng hcl.Range, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: r.Name() + ": " + summary, Detail: detail, Subject: rng.Ptr()}
}

// Warning is a warning diagnostic of rule r at rng, for what the live world shows.
func Warning(r Rule, rng hcl.Range, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: r.Name() + ": " + summary, Detail: detail, Subject: rng.Ptr()}
}

// LiveChecker is a rule that checks what running servers answer, after
// observation; its findings are warnings (the plan repairs what it can).
type LiveChecker interface {
	Rule
	Live(ctx context.Context, vhosts []Probed) hcl.Diagnostics
}

// Probed is a vhost whose running server was probed: what live checks read.
type Probed struct {
	Block       *providers.Web
	Addr        string // host:port it was probed at
	HSTS        string // the Strict-Transport-Security value the configuration sends
	ACMEWebroot string // as the server sees it
	Observed    providers.Value
}

// Live runs every rule's live check.
func Live(ctx context.Context, vhosts []Probed) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, r := range All() {
		if lc, ok := r.(LiveChecker); ok {
			diags = append(diags, lc.Live(ctx, vhosts)...)
		}
	}
	return diags
}

// Guarder is a rule that refuses a plan whose steps the world does not
// allow yet (a chain of trust that does not validate), once every change
// has its steps.
type Guarder interface {
	Rule
	Guard(g *graph.Graph) hcl.Diagnostics
}

// Guard runs every rule that guards a plan.
func Guard(g *graph.Graph) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, r := range All() {
		if gr, ok := r.(Guarder); ok {
			diags = append(diags, gr.Guard(g)...)
		}
	}
	return diags
}

// stepped are the resources that have a step in the plan.
func stepped(g *graph.Graph) map[schema.Address]bool {
	out := map[schema.Address]bool{}
	for _, s := range g.Steps {
		out[s.Addr] = true
	}
	return out
}

// Layouter is a rule that lays out the steps of some changes itself (a key
// rollover) instead of their own phases. It reports whether it laid out
// n's change; it marks what else it laid out with g.LaidOut.
type Layouter interface {
	Rule
	Layout(g *graph.Graph, n *graph.Node) bool
}

// Orderer is a rule that adds steps, edges and gates once every change has
// its steps.
type Orderer interface {
	Rule
	Order(g *graph.Graph)
}

// Orderers lists the rules that order steps, in the order they run: the
// first rule that orders a step names it, the challenge phase comes
// before the HSTS header it precedes, and a revocation is added once every
// other step is there.
func Orderers() []Orderer {
	return []Orderer{ACMEChallengeNotRedirected, HSTSOnHTTPVhost, TLSABeforeCert, CAABeforeOrder, APTKeyBeforeSource, MTASTSPolicyBeforeID, RevokeAfterServed}
}
