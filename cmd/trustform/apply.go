package main

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/schema"
)

// cmdApply is apply, and destroy (verb "destroy": apply -destroy).
func cmdApply(verb string, args []string, chdir string, e env) (code int) {
	var c common
	fs := newFlagSet(verb, e.stderr, chdir, &c)
	auto := fs.Bool("auto-approve", false, "apply without asking")
	wait := fs.Bool("wait", false, "wait at time gates instead of stopping there")
	asJSON := fs.Bool("json", false, "print the outcome as JSON")
	propagation := fs.Duration("propagation-wait", 30*time.Second, "how long to wait for every authoritative server to serve a DNS change before moving on")
	var pf planFlags
	pf.register(fs, verb)
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 1 {
		return errorf(e, "apply takes at most one plan file; got %q", fs.Args())
	}
	if pf.parallelism < 1 {
		return errorf(e, "-parallelism must be at least 1; got %d", pf.parallelism)
	}
	if *asJSON && !*auto && fs.NArg() == 0 {
		return errorf(e, "-json needs -auto-approve or a plan file: apply cannot ask for approval on a JSON stream")
	}
	m := &metricsOut{path: pf.metricsFile, command: "apply", started: time.Now()}
	defer func() { code = m.write(e, code) }()
	saved, opts, code := readSaved(e, fs, pf, &c)
	if code != 0 {
		return code
	}
	ctx, cancel := interruptible()
	defer cancel()
	if *asJSON {
		c.ui = newStream(e.stdout, time.Now)
		c.ui.version()
	}
	s, diags, ok := open(ctx, e, &c, "apply", opts)
	if !ok {
		return 1
	}
	defer s.close()

	p, code := approved(e, &c, s, diags, saved, *auto, *asJSON)
	if p == nil {
		if code == 0 {
			values, d := engine.Outputs(s.cfg, s.st)
			printDiags(e, &c, s.cfg, d, *asJSON)
			writeOutputs(e, &c, values)
		}
		if code == 0 { // nothing to apply: what the plan observed stands
			m.measured(s.run.Measure(nil))
			if pf.notify {
				notifyRun(ctx, e, s, "apply", engine.Ended{Out: &engine.Outcome{}})
			}
		}
		return code
	}
	if !*asJSON {
		fmt.Fprintln(e.stdout)
	}
	pr := &progress{w: e.stderr, tty: e.errTTY, now: time.Now}
	o := engine.ApplyOptions{Wait: *wait, Progress: pr.event, Save: s.save, PropagationWait: *propagation}
	if c.ui != nil {
		o.Progress = c.ui.event
	}
	faultHooks(e, &o)
	out, err := s.run.Apply(ctx, p, o)
	held := p.Steps
	if out != nil && err == nil {
		held = out.Held
	}
	m.measured(s.run.Measure(held))
	if pf.notify {
		ended := engine.Ended{Plan: p, Out: out, Err: err}
		if out == nil {
			ended.Out = &engine.Outcome{}
		}
		notifyRun(ctx, e, s, "apply", ended)
	}
	var values []schema.OutputValue
	if err == nil && !pf.destroy {
		var d hcl.Diagnostics
		values, d = engine.Outputs(s.cfg, s.st)
		printDiags(e, &c, s.cfg, d, *asJSON)
	}
	if c.ui != nil {
		c.ui.applied(p, out, err)
		writeOutputs(e, &c, values)
	}
	if err != nil {
		if c.ui == nil {
			errorf(e, "%v\nProgress up to the failed step is saved; the resources of that step keep what they had. Fix the cause and run apply again.", err)
		}
		return 1
	}
	if *asJSON {
		return 0
	}
	printOutcome(e, out)
	writeOutputs(e, &c, values)
	return 0
}

// readSaved reads apply's plan file, if one is given, and verifies its
// signature: the options are then the file's, what the engine cannot
// recompute; otherwise this command line's, and Approve refuses a plan
// made with others. A non-zero code is an error, said.
func readSaved(e env, fs *flag.FlagSet, pf planFlags, c *common) (*plan.Plan, engine.Options, int) {
	opts := pf.options()
	if fs.NArg() == 0 {
		return nil, opts, 0
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return nil, opts, errorf(e, "reading the plan: %v", err)
	}
	saved, err := plan.ReadJSON(f)
	f.Close()
	if err != nil {
		return nil, opts, errorf(e, "%s is not a trustform plan: %v", fs.Arg(0), err)
	}
	key, err := planKey(e, pf.keyFile)
	if err != nil {
		return nil, opts, errorf(e, "%v", err)
	}
	if key != nil {
		if err := plan.Verify(saved, key); err != nil {
			return nil, opts, errorf(e, "%s is refused: %v. Only a plan signed with this runner's plan key (TRUSTFORM_PLAN_KEY or -plan-key-file) is applied; run plan -out again", fs.Arg(0), err)
		}
		if !pf.given() {
			opts = opts.WithSaved(saved) // what the engine cannot recompute, from a file that verifies
		}
		savedVariables(saved, c)
	}
	return saved, opts, 0
}

// savedVariables gives the variables the values a verified plan was made
// with, as Terraform keeps them in its plan, below what the command line
// sets: a -var given again must be the same value, or the plan is stale. A
// sensitive value is recorded only as a keyed digest, so it comes from the
// command line or the environment again.
func savedVariables(saved *plan.Plan, c *common) {
	var from []schema.VarArg
	for _, name := range slices.Sorted(maps.Keys(saved.Variables)) {
		if v := saved.Variables[name]; !strings.HasPrefix(v, "(sensitive)") {
			from = append(from, schema.VarArg{Name: name, Value: v, Saved: true})
		}
	}
	*c.vars.list = append(from, *c.vars.list...)
}

// approved is the plan to apply: the engine's plan as the saved plan
// approves it, or the plan shown and approved by the user (or by
// -auto-approve). Nil with the exit code when there is nothing to apply.
func approved(e env, c *common, s *session, diags hcl.Diagnostics, saved *plan.Plan, auto, asJSON bool) (*plan.Plan, int) {
	if saved != nil {
		p, d, why := s.run.Approve(saved)
		printDiags(e, c, s.cfg, append(diags, d...), asJSON)
		if why != "" {
			return nil, errorf(e, "plan is stale: %s. Run plan again and review the new plan.", why)
		}
		if c.ui != nil {
			c.ui.planned(p)
		}
		return p, 0
	}
	p, d := s.run.Plan()
	diags = append(diags, d...)
	printDiags(e, c, s.cfg, diags, asJSON)
	switch {
	case diags.HasErrors():
		return nil, 1
	case c.ui != nil:
		c.ui.planned(p)
	default:
		writeText(e, c, p)
	}
	switch {
	case !p.HasChanges():
		return nil, 0
	case auto:
		return p, 0
	case !c.input:
		return nil, errorf(e, "apply needs approval, and -input=false forbids asking: add -auto-approve, or apply a reviewed plan file")
	}
	fmt.Fprint(e.stdout, "\nDo you want to perform these actions? Only 'yes' will be accepted to approve.\n  Enter a value: ")
	line, _ := readAnswer(e, false)
	if strings.TrimSpace(line) != "yes" {
		fmt.Fprintln(e.stdout, "\nApply cancelled.")
		return nil, 1
	}
	return p, 0
}

// printOutcome says what the apply did, and what waits at a gate.
func printOutcome(e env, out *engine.Outcome) {
	line := fmt.Sprintf("Apply complete: %d step(s) applied.", out.Applied)
	switch {
	case out.Repaired == 1:
		line += " 1 state entry repaired from what is live."
	case out.Repaired > 1:
		line += fmt.Sprintf(" %d state entries repaired from what is live.", out.Repaired)
	}
	fmt.Fprintln(e.stdout, line)
	switch {
	case len(out.Held) > 0 && out.OpensAt.IsZero():
		fmt.Fprintf(e.stdout, "%d step(s) wait until every authoritative server serves the new TLSA records (lagging: %s). Progress is saved: run `trustform apply` again later, or use -wait.\n",
			len(out.Held), strings.Join(out.Lagging, ", "))
	case len(out.Held) > 0:
		fmt.Fprintf(e.stdout, "%d step(s) wait for a time gate that opens at %s (in %s). Progress is saved: run `trustform apply` again after that, or use -wait.\n",
			len(out.Held), out.OpensAt.UTC().Format(time.RFC3339), time.Until(out.OpensAt).Round(time.Second))
	}
}
