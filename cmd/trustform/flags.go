package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
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

// common are the options most commands share, as Terraform names them.
type common struct {
	chdir           string
	noColor         bool
	lockTimeout     time.Duration
	lock            bool // -lock=false: run without the state lock
	input           bool // -input=false: never ask, fail instead
	compactWarnings bool
}

func newFlagSet(name string, stderr io.Writer, chdir string, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.chdir = chdir
	fs.StringVar(&c.chdir, "chdir", chdir, "switch to this directory before anything else (relative paths are then relative to it)")
	fs.BoolVar(&c.noColor, "no-color", false, "no colour in output")
	fs.DurationVar(&c.lockTimeout, "lock-timeout", 0, "how long to wait for the state lock")
	fs.BoolVar(&c.lock, "lock", true, "hold the state lock (-lock=false is dangerous: another run may write state beside this one)")
	fs.BoolVar(&c.input, "input", true, "ask for input; with -input=false a question is an error")
	fs.BoolVar(&c.compactWarnings, "compact-warnings", false, "print warnings as one line each")
	return fs
}

// parse parses a command's flags and then changes into -chdir, as Terraform
// does: every relative path given afterwards (-out, PLANFILE, fmt's paths)
// is relative to DIR. -h is help, exit 0; a bad flag is exit 1.
func (c *common) parse(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 1, false
	}
	if c.chdir != "." && c.chdir != "" {
		if err := os.Chdir(c.chdir); err != nil {
			fmt.Fprintf(fs.Output(), "Error: -chdir: %v\n", err)
			return 1, false
		}
		c.chdir = "."
	}
	return 0, true
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

// colorErr is color for what goes to stderr.
func (c *common) colorErr(e env) bool {
	return e.errTTY && !c.noColor && e.getenv("NO_COLOR") == ""
}
