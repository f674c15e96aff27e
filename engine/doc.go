// Package engine turns a configuration into a plan and carries plans out.
//
// A Run binds every block to its provider through one table (bind.go),
// observes the resources (read-only, bounded-parallel, each after what it
// refers to), plans each one through the resource contract of package
// providers, and turns the changes into steps: a change's own phases, or
// those a rule lays out (engine/rules), then the rules' edges and gates
// (engine/graph holds them while the plan is made). Apply executes the steps
// in order, saving state after each, batching what shares a transaction,
// and stopping at time gates it cannot pass yet. The engine knows no
// provider's concrete type.
package engine
