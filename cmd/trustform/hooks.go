//go:build !trustformtest

package main

import (
	"time"

	"github.com/trustform/trustform/engine"
)

// The shipped binary has no test hooks: its clock is the wall clock and
// nothing kills it between steps (testhooks.go, built with the tag
// trustformtest by the tests, has both).

func (e env) clock() func() time.Time { return time.Now }

func faultHooks(env, *engine.ApplyOptions) {}
