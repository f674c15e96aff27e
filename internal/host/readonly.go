package host

import (
	"context"
	"errors"
)

// readOnly marks a context in which no command may run.
type readOnly struct{}

// ReadOnly is ctx for observation: validate, plan, plan -refresh-only and
// show read what is there and run nothing, locally or over SSH. Run
// refuses in it, whatever asks.
func ReadOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, readOnly{}, true)
}

// ErrReadOnly is Run's answer during observation.
var ErrReadOnly = errors.New("no command runs while observing (validate, plan, show): commands run only during apply")

// mayRun says whether commands may run in ctx.
func mayRun(ctx context.Context) error {
	if ro, _ := ctx.Value(readOnly{}).(bool); ro {
		return ErrReadOnly
	}
	return nil
}
