package main

import (
	"fmt"
	"io"
	"time"

	"github.com/trustform/trustform/engine"
)

// progress shows an apply's events as fits where they are read. On a
// terminal, a wait is one live line rewritten in place. In a log (a CI job,
// the journal) every line is timestamped, a wait prints when what it waits
// for changes and then at most once a minute. (With -json, the stream
// says them: stream.event.)
type progress struct {
	w   io.Writer
	tty bool
	now func() time.Time

	live    bool      // a terminal line is open
	waitKey string    // what the last wait printed waited for
	printed time.Time // when it printed
}

// stillWaiting is how often a log repeats a wait that has not changed.
const stillWaiting = time.Minute

func (p *progress) event(ev engine.Event) {
	now := p.now()
	switch {
	case ev.Kind == engine.EventDone:
		return // the next step's line says as much
	case p.tty && ev.Kind == engine.EventWait:
		fmt.Fprintf(p.w, "\r\x1b[K%s", ev.Text) // ESC[K: clear what a longer line left
		p.live = true
	case p.tty:
		if p.live {
			fmt.Fprint(p.w, "\r\x1b[K")
			p.live = false
		}
		fmt.Fprintln(p.w, ev.Text)
	case ev.Kind == engine.EventWait:
		if ev.Key == p.waitKey && now.Sub(p.printed) < stillWaiting {
			return
		}
		text := ev.Text
		if ev.Key == p.waitKey {
			text += " (still waiting)"
		}
		fmt.Fprintf(p.w, "%s %s\n", now.UTC().Format(time.RFC3339), text)
		p.waitKey, p.printed = ev.Key, now
	default:
		fmt.Fprintf(p.w, "%s %s\n", now.UTC().Format(time.RFC3339), ev.Text)
		p.waitKey = ""
	}
}
