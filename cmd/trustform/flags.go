package main

import (
	"flag"
	"io"
	"strings"
	"time"

	"github.com/trustform/trustform/schema"
)

// addrList is a repeatable flag of resource addresses (-target, -replace).
type addrList []schema.Address

func (l *addrList) String() string {
	parts := make([]string, len(*l))
	for i, a := range *l {
		parts[i] = a.String()
	}
	return strings.Join(parts, ",")
}

func (l *addrList) Set(s string) error {
	a, err := schema.ParseAddress(s)
	if err != nil {
		return err
	}
	*l = append(*l, a)
	return nil
}

// common are the options most commands share.
type common struct {
	chdir       string
	noColor     bool
	lockTimeout time.Duration
}

func newFlagSet(name string, stderr io.Writer, chdir string, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.chdir = chdir
	fs.StringVar(&c.chdir, "chdir", chdir, "configuration directory")
	fs.BoolVar(&c.noColor, "no-color", false, "no colour in output")
	fs.DurationVar(&c.lockTimeout, "lock-timeout", 0, "how long to wait for the state lock")
	return fs
}

// clock is the time the engine plans with. TRUSTFORM_TEST_NOW (RFC 3339)
// freezes it, for tests only: a test that checks a time gate then does not
// race the wall clock on a loaded machine.
func (e env) clock() func() time.Time {
	if t, err := time.Parse(time.RFC3339, e.getenv("TRUSTFORM_TEST_NOW")); err == nil {
		return func() time.Time { return t }
	}
	return time.Now
}

// color reports whether output may be coloured: a terminal, no -no-color, no NO_COLOR.
func (c *common) color(e env) bool {
	return e.tty && !c.noColor && e.getenv("NO_COLOR") == ""
}
