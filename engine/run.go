package engine

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/engine/rules"
	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/internal/netpolicy"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// Options shape a plan.
type Options struct {
	Parallelism int              // observation at once; default 10
	Targets     []schema.Address // limit the plan to these and what they depend on
	Replace     []schema.Address // certificates whose key is replaced
	// Revoke is -revoke's reason: the certificates Replace replaces are
	// revoked once their successors are served. Only an apply that is
	// approved with it records the revocations in state.
	Revoke      string
	RefreshOnly bool // report drift since the last apply instead of planning
	// Destroy plans the deletion of everything the configuration manages,
	// as if no block were declared (plan -destroy, destroy).
	Destroy bool
	Now     func() time.Time
	// Untrusted is the allow-list of a plan of an untrusted configuration
	// (plan -untrusted): every connection outside it is refused, servers'
	// answers are not quoted, and nothing is written on any server (the
	// http-01 round trips of -refresh-only are left out). nil: trusted.
	Untrusted *netpolicy.Policy
	// Generating: plan -generate-config-out is writing the blocks of the
	// import blocks' targets, so a target without one is not an error yet.
	Generating bool
}

// Run is one plan or apply over a configuration.
type Run struct {
	cfg  *schema.Config
	st   *state.State
	opts Options
	g    *graph.Graph
	live hcl.Diagnostics // what running servers answer against the rules
	// remotes are the SSH hosts of the run, each one connection.
	remotes []Host
	// challenges are the http-01 round trips, run by plan -refresh-only.
	challenges []Challenge
	zones      []Zone
	notifiers  []Notifier
	// gone says why blocks removed from the configuration cannot be
	// planned for deletion, where they cannot (they are forgotten).
	gone hcl.Diagnostics
}

// connect dials the SSH hosts side by side, at most opts.Parallelism at a
// time, before anything is observed: otherwise resources of one host would
// wait for its connection in observation slots that other hosts could use.
// A host that cannot be reached says so in the first observation that
// needs it.
func (r *Run) connect() {
	sem := make(chan struct{}, max(r.opts.Parallelism, 1))
	var wg sync.WaitGroup
	for _, h := range r.remotes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			h.Connect()
		}()
	}
	wg.Wait()
}

// Close ends the run's connections to SSH hosts.
func (r *Run) Close() error {
	var errs []error
	for _, h := range r.remotes {
		errs = append(errs, h.Close())
	}
	return errors.Join(errs...)
}

// expand turns addresses of for_each blocks into their instances.
func expand(cfg *schema.Config, addrs []schema.Address) []schema.Address {
	var out []schema.Address
	for _, a := range addrs {
		out = append(out, cfg.Expand(a)...)
	}
	return out
}

// New checks the rules that refuse a configuration and binds its blocks to
// their providers.
func New(cfg *schema.Config, st *state.State, bind Binder, opts Options) (*Run, hcl.Diagnostics) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Parallelism == 0 {
		opts.Parallelism = 10
	}
	diags := rules.Refuse(cfg)
	var replace []schema.Address
	for _, r := range opts.Replace {
		sel := cfg.Select(r)
		for _, a := range append(slices.Clone(sel), r) {
			if k, _ := cfg.KindOf(a.Type); !k.Replaceable && a.Type != "host" {
				sel = nil
			}
		}
		if len(sel) == 0 {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid -replace",
				Detail: r.String() + " names no certificate of this configuration; -replace forces a new key for certificates: certificate.NAME, certificate.NAME[\"KEY\"], certificate.NAME[*], certificate.* or host.NAME (the certificates deployed to it)."})
		}
		for _, a := range sel {
			if !slices.Contains(replace, a) {
				replace = append(replace, a)
			}
		}
	}
	diags = append(diags, checkRevoke(opts.Revoke, replace)...)
	if !opts.Generating {
		diags = append(diags, undeclaredImports(cfg)...)
	}
	opts.Replace, opts.Targets = replace, expand(cfg, opts.Targets)
	for _, t := range opts.Targets {
		if cfg.Block(t) == nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid -target", Detail: t.String() + " is not declared in this configuration."})
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	cfg, gone := withGone(cfg, st)
	if opts.Destroy {
		cfg.Destroying()
	}
	w, d := bind(cfg, opts.Now, opts.Untrusted)
	diags = append(diags, d...)
	if diags.HasErrors() {
		return nil, diags
	}
	return &Run{cfg: cfg, st: st, opts: opts, g: w.Graph, remotes: w.Hosts, challenges: w.Challenges, zones: w.Zones, notifiers: w.Notifiers, gone: gone}, diags
}

// Observe reads the live world (read-only, bounded-parallel), then runs the
// rules' live checks on what the servers answered.
func (r *Run) Observe(ctx context.Context) hcl.Diagnostics {
	ctx = netpolicy.With(host.ReadOnly(ctx), r.opts.Untrusted)
	r.connect()
	diags := observe(ctx, r.g, r.opts.Parallelism)
	if !diags.HasErrors() {
		r.live = rules.Live(ctx, r.probed())
		if r.opts.RefreshOnly && r.opts.Untrusted == nil { // a round trip writes a token into the webroot
			r.live = append(r.live, r.roundTrips(ctx)...)
		}
		if rules.Preloads(r.cfg) {
			r.live = append(r.live, r.preloadedNames(ctx)...)
		}
	}
	return diags
}

// preloadedNames checks the names every managed zone publishes against an
// HSTS preload that covers subdomains.
func (r *Run) preloadedNames(ctx context.Context) hcl.Diagnostics {
	var hosts, unlisted []string
	for _, z := range r.zones {
		h, err := z.Hosts(ctx)
		if err != nil {
			unlisted = append(unlisted, z.Addr.String()+" ("+err.Error()+")")
		}
		hosts = append(hosts, h...)
	}
	return rules.HSTSOnHTTPVhost.Published(r.cfg, hosts, unlisted)
}

// roundTrips runs the http-01 token round trip of every ACME certificate
// validated through a vhost, as its next renewal would: a drift check then
// learns that renewals will fail before the certificate expires.
func (r *Run) roundTrips(ctx context.Context) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, c := range r.challenges {
		if err := c.Check(ctx, c.Cert.Names); err != nil {
			diags = append(diags, rules.Warning(rules.ACMEChallengeNotRedirected, c.Cert.DeclRange, "certificate."+c.Cert.Name+" would not renew",
				strings.Replace(strings.TrimPrefix(err.Error(), rules.ACMEChallengeNotRedirected.Name()+": "), "nothing was ordered", "the next renewal fails the same way", 1)))
		}
	}
	return diags
}

// desire plans every resource, in bind order: what a resource refers to is
// planned before it (a TLSA RRset follows its certificate's plan).
func (r *Run) desire() {
	for _, n := range r.g.Nodes {
		r.plan(n)
	}
}

func (r *Run) plan(n *graph.Node) {
	if r.cfg.Gone(n.Addr) {
		n.Desired, n.Change = nil, nil
		if d, ok := n.Res.(providers.Deleter); ok && n.Observed != nil {
			n.Change = d.Delete(n.Observed)
		}
		if r.opts.Destroy && n.Change != nil { // the kinds say why a removed block's resource goes
			for i, why := range n.Change.Reasons {
				n.Change.Reasons[i] = strings.Replace(why, "its block is gone", "-destroy deletes everything the configuration manages", 1)
			}
		}
		return
	}
	n.Desired, n.Change = n.Res.Plan(n.Observed, r.planOptions(n))
	if phase, ok := r.st.Pending[n.Addr.String()]; ok && n.Change == nil {
		n.Change = &providers.Change{Action: providers.Update,
			Reasons: []string{"its " + phase + " step did not finish (trustform was stopped before or during it, or the step failed): it runs again"},
			Phases:  []providers.Phase{{Name: phase, Description: "run the " + phase + " step again"}}}
	}
}

// planOptions are what the command line and state ask of n.
func (r *Run) planOptions(n *graph.Node) providers.PlanOptions {
	o := providers.PlanOptions{Replace: slices.Contains(r.opts.Replace, n.Addr), Revoke: r.opts.Revoke, Retiring: r.st.Retiring[n.Addr.String()]}
	if sr := r.st.Get(n.Addr.String()); sr != nil {
		o.Adopted = sr.Adopted
	} else if ad, ok := n.Res.(providers.Adopter); ok && r.importing(n.Addr) != nil {
		o.Adopted = ad.Adoption() // what the import block's apply will record
	}
	return o
}
