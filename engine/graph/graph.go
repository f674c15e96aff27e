// Package graph is a plan while it is being made: the resources of a run
// (nodes, with what was observed, what is desired and the change between),
// and the steps their changes take, with the dependencies between steps and
// the rule that demands each. The engine builds it; the rules add to it;
// Order turns it into the sequence a plan shows and apply follows.
package graph

import (
	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// Node is one managed resource during a run.
type Node struct {
	Addr     schema.Address
	Block    any // the block of package schema that declares it
	Res      providers.Resource
	Observed providers.Value
	Desired  providers.Value
	Change   *providers.Change
	Wave     int // observed after the waves before it: what it refers to
}

// Phase returns the phase of the node's change named name, if it has one:
// a phase the change leaves to a rule to place (Placed).
func (n *Node) Phase(name string) (providers.Phase, bool) {
	if n.Change != nil {
		for _, p := range n.Change.Phases {
			if p.Name == name {
				return p, true
			}
		}
	}
	return providers.Phase{}, false
}

// Step is one step of a change.
type Step struct {
	Addr   schema.Address
	Action plan.Action
	Phase  string
	Rule   string // the first rule that orders the step
	Desc   string
	Deps   map[*Step]string // dependency → the rule that demands it ("" for a plain reference)
	Gate   []plan.GateWait
	// Irreversible: nothing undoes the step (a revocation).
	Irreversible bool
	Index        int // position in the ordered plan, from 1
	level        int
}

// After makes s wait for dep. The first rule that orders a step names it.
func (s *Step) After(dep *Step, rule string) {
	if dep == nil || dep == s {
		return
	}
	s.Deps[dep] = rule
	if s.Rule == "" {
		s.Rule = rule
	}
}

// Claim names rule as the reason s waits for dep, if it does.
func (s *Step) Claim(dep *Step, rule string) {
	if _, waits := s.Deps[dep]; waits && dep != nil {
		delete(s.Deps, dep)
		s.After(dep, rule)
	}
}

// Graph is the resources of a run and the steps of their changes.
type Graph struct {
	Config *schema.Config
	Nodes  []*Node // in bind order: what a block refers to comes first
	Steps  []*Step // in the order they were added

	by     map[schema.Address]*Node
	of     map[providers.Resource]*Node
	byAddr map[schema.Address][]*Step
	laid   map[schema.Address]bool
}

// New is an empty graph of cfg.
func New(cfg *schema.Config) *Graph {
	return &Graph{Config: cfg, by: map[schema.Address]*Node{}, of: map[providers.Resource]*Node{}}
}

// AddNode adds a resource.
func (g *Graph) AddNode(n *Node) {
	g.Nodes = append(g.Nodes, n)
	g.by[n.Addr] = n
	g.of[n.Res] = n
}

// Referrers returns the resources whose blocks refer to addr
// (schema.Config.Referrers).
func (g *Graph) Referrers(addr schema.Address) []*Node {
	var out []*Node
	for _, a := range g.Config.Referrers(addr) {
		if n := g.by[a]; n != nil {
			out = append(out, n)
		}
	}
	return out
}

// Node returns the resource at addr, or nil.
func (g *Graph) Node(addr schema.Address) *Node { return g.by[addr] }

// NodeOf returns the node of a resource, or nil.
func (g *Graph) NodeOf(r providers.Resource) *Node { return g.of[r] }

// ResetSteps forgets every step, for planning anew.
func (g *Graph) ResetSteps() {
	g.Steps, g.byAddr, g.laid = nil, map[schema.Address][]*Step{}, map[schema.Address]bool{}
}

// AddStep adds a step of the resource at addr, after its others.
func (g *Graph) AddStep(addr schema.Address, action plan.Action, phase, rule, desc string) *Step {
	s := &Step{Addr: addr, Action: action, Phase: phase, Rule: rule, Desc: desc, Deps: map[*Step]string{}}
	g.Steps = append(g.Steps, s)
	g.byAddr[addr] = append(g.byAddr[addr], s)
	return s
}

// AddFirst adds a step of the resource at addr before its others.
func (g *Graph) AddFirst(addr schema.Address, action plan.Action, phase, rule, desc string) *Step {
	s := g.AddStep(addr, action, phase, rule, desc)
	ss := g.byAddr[addr]
	g.byAddr[addr] = append([]*Step{s}, ss[:len(ss)-1]...)
	return s
}

// StepsOf lists the steps of a resource, in its order.
func (g *Graph) StepsOf(addr schema.Address) []*Step { return g.byAddr[addr] }

// First returns the first step of a resource, or nil.
func (g *Graph) First(addr schema.Address) *Step {
	if ss := g.byAddr[addr]; len(ss) > 0 {
		return ss[0]
	}
	return nil
}

// Last returns the final step of a resource: what its dependents wait for.
func (g *Graph) Last(addr schema.Address) *Step {
	if ss := g.byAddr[addr]; len(ss) > 0 {
		return ss[len(ss)-1]
	}
	return nil
}

// Dep returns the step a Dep names: the step of its phase, or the last one.
func (g *Graph) Dep(d providers.Dep) *Step {
	if d.Phase == "" {
		return g.Last(d.Addr)
	}
	for _, s := range g.byAddr[d.Addr] {
		if s.Phase == d.Phase {
			return s
		}
	}
	return nil
}

// AddPhases adds the phases of n's change in order (but those a rule
// places), the first after what the change waits for.
func (g *Graph) AddPhases(n *Node) {
	var prev *Step
	for _, ph := range n.Change.Phases {
		if ph.Placed {
			continue
		}
		s := g.AddStep(n.Addr, n.Change.Action, ph.Name, "", ph.Description)
		if prev == nil {
			for _, d := range n.Change.After {
				s.After(g.Dep(d), "")
			}
		}
		s.After(prev, "")
		prev = s
	}
}

// LaidOut marks the resource at addr as laid out by a rule: its own phases
// are not added.
func (g *Graph) LaidOut(addr schema.Address) { g.laid[addr] = true }

// IsLaidOut reports whether a rule laid out the resource at addr.
func (g *Graph) IsLaidOut(addr schema.Address) bool { return g.laid[addr] }
