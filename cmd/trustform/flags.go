package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/internal/netpolicy"
	"github.com/trustform/trustform/kinds"
	"github.com/trustform/trustform/schema"
)

// addrList is a repeatable flag of resource addresses (-target).
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

// patternList is -replace: addresses or patterns (certificate.*,
// certificate.NAME[*], host.NAME).
type patternList struct{ addrList }

func (l *patternList) Set(s string) error {
	a, err := schema.ParsePattern(s)
	if err != nil {
		return err
	}
	l.addrList = append(l.addrList, a)
	return nil
}

// planFlags are the options plan and apply share: what to plan, and the
// key of saved plans.
type planFlags struct {
	parallelism int
	revoke      string
	keyFile     string
	targets     addrList
	replace     patternList
	metricsFile string
	notify      bool
	destroy     bool
}

// register defines them on fs; verb is "plan" or "apply", for the help.
func (p *planFlags) register(fs *flag.FlagSet, verb string) {
	fs.IntVar(&p.parallelism, "parallelism", 10, "how many resources to observe at once")
	fs.StringVar(&p.revoke, "revoke", "", "revoke the certificates -replace replaces, once their successors are served: keyCompromise, superseded, cessationOfOperation or unspecified (cannot be undone)")
	fs.StringVar(&p.keyFile, "plan-key-file", "", "the key that signs saved plans (plan -out) and verifies them (apply PLANFILE), in a 0600 file; else TRUSTFORM_PLAN_KEY. A signed plan's -replace, -revoke and -target are trusted by apply")
	fs.Var(&p.targets, "target", "limit the "+verb+" to this resource and what it depends on (repeatable)")
	fs.StringVar(&p.metricsFile, "metrics-file", "", "write what the "+verb+" observed as Prometheus metrics to this file, atomically (the node exporter's textfile format; docs/metrics.md)")
	fs.BoolVar(&p.notify, "notify", false, "send what the "+verb+" found to the configuration's notify blocks (never without this flag, and never with -untrusted)")
	fs.BoolVar(&p.destroy, "destroy", verb == "destroy", "plan the deletion of everything the configuration manages (certificates' files, vhosts, TLSA, CAA and MTA-STS records, APT keys and sources), as if it declared no block; services, issuers and hosts are forgotten")
	fs.Var(&p.replace, "replace", "force a new key for this certificate, or for every one a pattern names: certificate.*, certificate.NAME[*], host.NAME (repeatable)")
}

// options are the engine's options they give.
func (p *planFlags) options() engine.Options {
	return engine.Options{Parallelism: p.parallelism, Targets: p.targets, Replace: p.replace.addrList, Revoke: p.revoke, Destroy: p.destroy}
}

// given reports whether any option the engine cannot recompute from a
// saved plan was given: -replace, -revoke, -target.
func (p *planFlags) given() bool {
	return len(p.replace.addrList) > 0 || len(p.targets) > 0 || p.revoke != "" || p.destroy
}

// common are the options most commands share, as Terraform names them.
type common struct {
	chdir           string
	noColor         bool
	lockTimeout     time.Duration
	lock            bool // -lock=false: run without the state lock
	input           bool // -input=false: never ask, fail instead
	compactWarnings bool
	vars            varArgs // -var and -var-file, in command-line order
	backendConfig   []string
	// untrusted is plan -untrusted's allow-list: the configuration comes
	// from a pull request; nil otherwise.
	untrusted *netpolicy.Policy
	// unset: validate checks for any value of a variable that has none.
	unset bool
	// ui is plan's and apply's -json stream; diagnostics go there.
	ui *stream
}

// varArgs is the repeatable -var NAME=VALUE and -var-file FILE, kept in one
// list: the later of the two wins, as in Terraform.
type varArgs struct{ list *[]schema.VarArg }

type varFlag struct {
	varArgs
	file bool
}

func (f varFlag) String() string { return "" }

func (f varFlag) Set(s string) error {
	if f.file {
		*f.list = append(*f.list, schema.VarArg{File: s})
		return nil
	}
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("%q: want -var NAME=VALUE", s)
	}
	*f.list = append(*f.list, schema.VarArg{Name: name, Value: value})
	return nil
}

// load reads the configuration with the variable values of the command
// line and the environment; from then on the output hides the sensitive
// ones.
func (c *common) load(e env) (*schema.Config, hcl.Diagnostics) {
	cfg, diags := kinds.Load(c.chdir, schema.Inputs{Env: os.Environ(), Args: *c.vars.list, Unset: c.unset})
	if asked := promptVariables(e, c, cfg, diags); len(asked) > 0 {
		*c.vars.list = append(*c.vars.list, asked...)
		cfg, diags = kinds.Load(c.chdir, schema.Inputs{Env: os.Environ(), Args: *c.vars.list})
	}
	if cfg != nil {
		for _, w := range []io.Writer{e.stdout, e.stderr, e.log} {
			if r, ok := w.(*redactor); ok {
				r.secrets = cfg.Sensitive()
			}
		}
	}
	return cfg, diags
}

// synopses are the first lines of each command's help.
var synopses = map[string]string{
	"plan":         "plan [options]\n\nShows what apply would do: the changes, in the order the rules put them, and\nwhy each is needed. Reads the servers; changes nothing.",
	"apply":        "apply [options] [PLANFILE]\n\nCarries out a plan: a saved one exactly as it was reviewed, or a new one once\napproved. Stops at time gates (or waits with -wait) and saves progress after\nevery step.",
	"destroy":      "destroy [options] [PLANFILE]\n\nDeletes everything the configuration manages, as apply -destroy: the\ncertificates' files, vhosts, TLSA, CAA and MTA-STS records, APT keys and\nsources, in the reverse of the order they were made in (what refers to a\nresource goes first). Services, issuers and hosts are forgotten: their\nfiles, keys and accounts stay. Asks for approval as apply does.",
	"output":       "output [options] [NAME]\n\nPrints the output blocks' values, evaluated with what the state holds (no\nserver is read). A sensitive output is never printed.",
	"show":         "show [options] [PLANFILE]\n\nShows a saved plan; without one, the inventory: every certificate, where its\nkey lives and what serves and pins it.",
	"validate":     "validate [options]\n\nChecks the configuration (syntax, references, the rules that refuse it)\nwithout reading any server or the state.",
	"fmt":          "fmt [options] [PATH…]\n\nRewrites configuration files in the canonical format.",
	"force-unlock": "force-unlock [options] LOCK_ID\n\nBreaks the state lock of a run that hangs (one that died freed it already):\nthe lock file is removed, or the PostgreSQL session holding it ended. The run\nthat held it stops at its next state write. LOCK_ID is in the message of a\nrun that waited for the lock.",
}

// newFlagSet is a command's flag set with the options it shares with the
// others: those of the state (-lock, -lock-timeout, -backend-config,
// -input) only where the command reads state, the variables' where it
// evaluates the configuration.
func newFlagSet(name string, stderr io.Writer, chdir string, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if syn, ok := synopses[name]; ok {
		fs.Usage = func() {
			fmt.Fprintf(stderr, "Usage: trustform [-chdir=DIR] %s\n\nOptions:\n", syn)
			fs.PrintDefaults()
		}
	}
	c.chdir = chdir
	c.vars = varArgs{list: new([]schema.VarArg)}
	fs.StringVar(&c.chdir, "chdir", chdir, "switch to this directory before anything else (relative paths are then relative to it)")
	fs.BoolVar(&c.noColor, "no-color", false, "no colour in output")
	if name != "fmt" {
		fs.BoolVar(&c.compactWarnings, "compact-warnings", false, "print warnings as one line each")
		fs.Var(varFlag{c.vars, false}, "var", "set a variable: -var NAME=VALUE (repeatable; overrides "+schema.EnvPrefix+"NAME and *"+schema.AutoVarsSuffix+")")
		fs.Var(varFlag{c.vars, true}, "var-file", "read variable values from an HCL file of NAME = VALUE lines (repeatable)")
	}
	if name == "fmt" || name == "validate" {
		return fs
	}
	fs.Func("lock-timeout", "how long to wait for the state lock (90s, 5m, 1h, 1d)", func(s string) error {
		d, err := schema.ParseDuration(s)
		c.lockTimeout = d
		return err
	})
	fs.BoolVar(&c.lock, "lock", true, "hold the state lock (-lock=false is dangerous: another run may write state beside this one)")
	fs.BoolVar(&c.input, "input", true, "ask for input; with -input=false a question is an error")
	fs.Func("backend-config", "pin the PostgreSQL state outside the configuration: conn_str=…, schema=…, name=… (repeatable; TRUSTFORM_PG_CONN_STR too): a state block naming another server is refused", func(s string) error {
		c.backendConfig = append(c.backendConfig, s)
		return nil
	})
	return fs
}

// parse parses a command's flags and then changes into -chdir, as Terraform
// does: every relative path given afterwards (-out, PLANFILE, fmt's paths)
// is relative to DIR. -h is help, exit 0; a bad flag is one line of error
// and a pointer to the help, exit 1; an option after the arguments is
// refused (Go's flag parsing would take it for an argument).
func (c *common) parse(fs *flag.FlagSet, args []string) (code int, ok bool) {
	help := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = help
	switch {
	case errors.Is(err, flag.ErrHelp):
		help()
		return 0, false
	case err != nil:
		fmt.Fprintf(fs.Output(), "Run \"trustform %s -h\" for its options.\n", fs.Name())
		return 1, false
	}
	for _, a := range fs.Args() {
		if len(a) > 1 && strings.HasPrefix(a, "-") {
			fmt.Fprintf(fs.Output(), "Error: the option %s comes after the arguments (%s): options go first, as in trustform %s %s %s\n", a, strings.Join(fs.Args()[:slices.Index(fs.Args(), a)], " "), fs.Name(), a, strings.Join(fs.Args()[:slices.Index(fs.Args(), a)], " "))
			return 1, false
		}
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

// color reports whether output may be coloured: a terminal, no -no-color, no NO_COLOR.
func (c *common) color(e env) bool {
	return e.tty && !c.noColor && e.getenv("NO_COLOR") == "" && e.getenv("TERM") != "dumb"
}

// colorErr is color for what goes to stderr.
func (c *common) colorErr(e env) bool {
	return e.errTTY && !c.noColor && e.getenv("NO_COLOR") == "" && e.getenv("TERM") != "dumb"
}
