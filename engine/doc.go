// Package engine turns a configuration into a plan and carries plans out.
//
// A Run binds every block to the provider that owns its real system,
// observes them all (read-only, bounded-parallel), diffs desired against
// observed into changes, and orders the changes into steps with the named
// rules of rules.go. Apply executes the steps in that order, saving state
// after each, batching DNS changes into one transaction per zone, and
// stopping at time gates it cannot pass yet.
package engine
