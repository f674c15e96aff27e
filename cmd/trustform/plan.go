package main

import (
	"bytes"
	"time"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/internal/files"
	"github.com/trustform/trustform/internal/netpolicy"
	"github.com/trustform/trustform/schema"
)

func cmdPlan(args []string, chdir string, e env) (code int) {
	var c common
	fs := newFlagSet("plan", e.stderr, chdir, &c)
	out := fs.String("out", "", "save the plan to this file for apply")
	asJSON := fs.Bool("json", false, "print the plan as JSON (docs/plan-json.md)")
	asMarkdown := fs.Bool("markdown", false, "print the plan as a pull-request comment (Markdown, under 60,000 characters)")
	detailed := fs.Bool("detailed-exitcode", false, "exit 2 when the plan has changes")
	refreshOnly := fs.Bool("refresh-only", false, "report drift since the last apply instead of planning")
	generate := fs.String("generate-config-out", "", "write the blocks of import blocks' targets that have none to this new file (read from each import's id), then plan with them")
	untrusted := fs.Bool("untrusted", false, "plan a configuration from a pull request: no lock, nothing written to the state store or any server, connections only to the networks in TRUSTFORM_ALLOW_NET (CIDR,…), servers' answers not quoted")
	var pf planFlags
	pf.register(fs, "plan")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	switch {
	case fs.NArg() > 0:
		return errorf(e, "plan takes no arguments; got %q", fs.Args())
	case *asJSON && *asMarkdown:
		return errorf(e, "-json and -markdown do not go together: choose one")
	case pf.parallelism < 1:
		return errorf(e, "-parallelism must be at least 1; got %d", pf.parallelism)
	}
	m := &metricsOut{path: pf.metricsFile, command: "plan", started: time.Now()}
	defer func() { code = m.write(e, code) }()
	key, err := planKey(e, pf.keyFile)
	if err != nil {
		return errorf(e, "%v", err)
	}
	if *untrusted && pf.notify {
		return errorf(e, "-notify and -untrusted do not go together: the notify blocks of an untrusted configuration are its author's, and a plan of it sends nothing anywhere")
	}
	if *untrusted {
		if c.untrusted, err = netpolicy.Parse(e.getenv("TRUSTFORM_ALLOW_NET")); err != nil {
			return errorf(e, "%v", err)
		}
	}
	ctx, cancel := interruptible()
	defer cancel()
	if *asJSON {
		c.ui = newStream(e.stdout, time.Now)
		c.ui.version()
	}
	if *generate != "" {
		if *untrusted {
			return errorf(e, "-generate-config-out reads files of this machine: not with -untrusted")
		}
		if code := generateConfig(ctx, e, &c, *generate); code != 0 {
			return code
		}
	}
	opts := pf.options()
	opts.RefreshOnly = *refreshOnly
	s, diags, ok := open(ctx, e, &c, "plan", opts)
	if !ok {
		return 1
	}
	defer s.close()
	p, d := s.run.Plan()
	diags = append(diags, d...)
	if !d.HasErrors() {
		m.measured(s.run.Measure(p.Steps))
		if pf.notify {
			notifyRun(ctx, e, s, "plan", engine.Ended{Plan: p})
		}
	}
	// The engine hid each resource's sensitive texts in its values, reasons
	// and steps; diagnostics may quote any of them.
	p.Diagnostics = plan.Diagnostics(diags)
	secrets := s.cfg.Sensitive()
	for i, d := range p.Diagnostics {
		d.Summary, d.Detail = schema.Hide(secrets, d.Summary), schema.Hide(secrets, d.Detail)
		p.Diagnostics[i] = d
	}
	printDiags(e, &c, s.cfg, diags, *asJSON || *asMarkdown)
	if diags.HasErrors() {
		return 1
	}
	if *out != "" {
		saved := *p
		if key != nil {
			if err := plan.Sign(&saved, key); err != nil {
				return errorf(e, "%v", err)
			}
		}
		var buf bytes.Buffer
		if err := plan.WriteJSON(&buf, &saved); err != nil {
			return errorf(e, "%v", err)
		}
		if err := files.WriteAtomic(*out, buf.Bytes(), 0o644); err != nil {
			return errorf(e, "saving the plan: %v", err)
		}
	}
	switch {
	case *asJSON:
		c.ui.planned(p)
		c.ui.outputs(nil)
	case *asMarkdown:
		if err := writeMarkdown(e, p); err != nil {
			return errorf(e, "%v", err)
		}
	default:
		writeText(e, &c, p)
		if *out != "" {
			e.stdout.Write([]byte("\nSaved the plan to " + *out + ". Apply exactly this plan with: trustform apply " + *out + "\n"))
		}
	}
	if *detailed && p.HasChanges() {
		return 2
	}
	return 0
}
