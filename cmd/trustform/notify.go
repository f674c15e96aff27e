package main

import (
	"context"
	"fmt"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/state"
)

// notifyRun is -notify: the findings of the command sent to the
// configuration's notify blocks, each lasting finding once per
// repeat_after (the record beside the state). A target that fails is a
// warning; the command's exit code stands.
func notifyRun(ctx context.Context, e env, s *session, command string, ended engine.Ended) {
	notes, ok := s.store.(state.Notes)
	if !ok || !s.run.Notifies() {
		return
	}
	sent, err := notes.Notified(ctx)
	if err != nil {
		fmt.Fprintf(e.stderr, "Warning: -notify: %v; nothing was sent\n", err)
		return
	}
	keep, errs := s.run.Notify(ctx, command, s.run.Findings(ended), sent)
	for _, err := range errs {
		fmt.Fprintf(e.stderr, "Warning: -notify: %v\n", err)
	}
	if err := notes.SaveNotified(ctx, keep); err != nil {
		fmt.Fprintf(e.stderr, "Warning: -notify: recording what was sent: %v\n", err)
	}
}
