//go:build !trustformtest

package main

import (
	"time"

	"github.com/trustform/trustform/engine/plan"
)

// The shipped binary has no test hooks: its clock is the wall clock and
// nothing kills it between steps (testhooks.go, built with the tag
// trustformtest by the tests, has both).

func (e env) clock() func() time.Time { return time.Now }

func faultHook(env) func(plan.Step) { return nil }
