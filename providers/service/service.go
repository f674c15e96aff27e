package service

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/go-acme/lego/v4/certcrypto"

	"github.com/trustform/trustform/internal/chain"
	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/internal/probe"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// PhaseReload is the service's one step: config test, reload, and wait
// until every endpoint serves the certificate file's leaf.
const PhaseReload = "reload"

// Service is one service block.
type Service struct {
	Host          host.Host // where the commands run
	Certificate   providers.KeyDeployer
	CertAddr      schema.Address
	CertPath      string // the certificate's files on Host, restored from
	KeyPath       string // their .prev copies when the config test fails
	Endpoints     []probe.Endpoint
	Name          string   // SNI sent to the endpoints: the certificate's first name
	Names         []string // the certificate's names
	TestCommand   string
	ReloadCommand string
	// Roots, when set and not nil, are what each endpoint's chain must
	// build to (served_chain): the certificate issuer's.
	Roots func() *x509.CertPool
	// Settle is how long Apply waits for every endpoint to serve the new
	// certificate after the reload (default 20 s).
	Settle time.Duration
}

var (
	_ providers.Resource      = (*Service)(nil)
	_ providers.Server        = (*Service)(nil)
	_ providers.TLSEndpointer = (*Service)(nil)
	_ providers.Described     = (*Service)(nil)
	_ providers.Measured      = (*Service)(nil)
)

// Measure is, per endpoint, the served certificate's expiry and whether
// it is the deployed one.
func (s *Service) Measure(observed, desired providers.Value) []providers.Sample {
	return providers.ServedSamples(observed, desired, func(url string) string { return url })
}

// Serves is the certificate the service reads.
func (s *Service) Serves() schema.Address { return s.CertAddr }

// Observe asks every endpoint for the chain it serves. An endpoint that
// does not answer is observed as such: drift to report, not an error.
func (s *Service) Observe(ctx context.Context) (providers.Value, error) {
	served, chains := s.probe(ctx)
	v := providers.Value{"served_certificate": providers.List(served...)}
	if len(chains) > 0 {
		v["served_chain"] = providers.List(chains...)
	}
	return v, nil
}

// served is "URL LEAF" for every endpoint, as probe.Leaf names a
// certificate, or "URL unreachable: …".
func (s *Service) served(ctx context.Context) []string {
	out, _ := s.probe(ctx)
	return out
}

// probe is served and, with roots, "URL verifies" or "URL <fault>" for
// the chain of each endpoint that answers.
func (s *Service) probe(ctx context.Context) (served, chains []string) {
	roots := s.roots()
	for _, e := range s.Endpoints {
		c, err := e.Chain(ctx, s.Name, 5*time.Second)
		if err != nil {
			served = append(served, e.URL+" unreachable: "+oneLine(err))
			continue
		}
		served = append(served, e.URL+" "+probe.Leaf(c[0]))
		if roots != nil {
			why := probe.ChainVerifies
			if err := chain.Verify(c, roots, s.Name, time.Now()); err != nil {
				why = err.Error()
			}
			chains = append(chains, e.URL+" "+why)
		}
	}
	return served, chains
}

func (s *Service) roots() *x509.CertPool {
	if s.Roots == nil {
		return nil
	}
	return s.Roots()
}

// Plan: every endpoint serves the certificate file's leaf; while the
// certificate is being (re)issued, what it will be is unknown and the
// service reloads after it.
func (s *Service) Plan(observed providers.Value, _ providers.PlanOptions) (providers.Value, *providers.Change) {
	kp := s.Certificate.KeyPlan()
	desired := providers.Value{"served_certificate": s.want(kp.Live)}
	phase := providers.Phase{Name: PhaseReload, Description: s.describe()}
	switch {
	case kp.Issue:
		desired["served_certificate"] = providers.Unknown(s.CertAddr.String() + " is deployed")
		return desired, &providers.Change{Action: providers.Update, Reload: true, Phases: []providers.Phase{phase},
			After:   []providers.Dep{{Addr: s.CertAddr}},
			Reasons: []string{s.CertAddr.String() + " is redeployed; the service must reload to serve it"}}
	case len(kp.Live) == 0:
		return desired, nil // nothing deployed yet, and nothing to issue: the certificate's own plan says why
	}
	if s.roots() != nil {
		var l []string
		for _, e := range s.Endpoints {
			l = append(l, e.URL+" "+probe.ChainVerifies)
		}
		desired["served_chain"] = providers.List(l...)
	}
	d := providers.Differs(desired, observed)
	if len(d) == 0 {
		return desired, nil
	}
	return desired, &providers.Change{Action: providers.Update, Phases: []providers.Phase{phase},
		Reasons: s.mismatches(kp.Live[0], observed)}
}

// want is what every endpoint should serve: the deployed leaf.
func (s *Service) want(live []*x509.Certificate) providers.Attr {
	if len(live) == 0 {
		return providers.Unknown(s.CertAddr.String() + " is deployed")
	}
	var l []string
	for _, e := range s.Endpoints {
		l = append(l, e.URL+" "+probe.Leaf(live[0]))
	}
	return providers.List(l...)
}

// mismatches names each endpoint that does not serve the deployed leaf.
func (s *Service) mismatches(leaf *x509.Certificate, observed providers.Value) []string {
	want := probe.Leaf(leaf)
	var out []string
	for _, got := range observed["served_certificate"].List {
		url, served, _ := strings.Cut(got, " ")
		if served != want {
			out = append(out, fmt.Sprintf("%s serves %s, not the deployed %s (%s)", url, served, s.CertAddr, want))
		}
	}
	for _, got := range observed["served_chain"].List {
		if url, why, _ := strings.Cut(got, " "); why != probe.ChainVerifies {
			out = append(out, fmt.Sprintf("%s serves a chain that does not verify: %s", url, why))
		}
	}
	if len(out) == 0 {
		out = append(out, "the endpoints changed")
	}
	return out
}

func (s *Service) describe() string {
	var steps []string
	if s.TestCommand != "" {
		steps = append(steps, "run "+s.TestCommand)
	}
	if s.ReloadCommand != "" {
		steps = append(steps, "run "+s.ReloadCommand)
	}
	steps = append(steps, "wait until every endpoint serves the deployed certificate")
	return strings.Join(steps, ", then ")
}

// Apply tests and reloads, then waits until every endpoint serves the
// certificate file's leaf, seen three times in a row: a reload is a
// signal, and processes of the old configuration finish their sessions. A
// failed test puts the previous certificate files back (the daemon still
// runs on them) and stops the apply.
func (s *Service) Apply(ctx context.Context, _ *providers.Change, phase string) error {
	if phase != PhaseReload {
		return fmt.Errorf("service: unknown phase %q", phase)
	}
	if err := s.run(ctx, "test_command", s.TestCommand); err != nil {
		if rerr := s.restore(); rerr != nil {
			return fmt.Errorf("%w; restoring the previous certificate failed too: %v", err, rerr)
		}
		return fmt.Errorf("%w; %s and %s hold the previous certificate again, which the service still serves", err, s.CertPath, s.KeyPath)
	}
	if err := s.run(ctx, "reload_command", s.ReloadCommand); err != nil {
		return err
	}
	leaf, err := s.deployedLeaf()
	if err != nil {
		return err
	}
	settle := s.Settle
	if settle <= 0 {
		settle = 20 * time.Second
	}
	want := make([]string, len(s.Endpoints))
	for i, e := range s.Endpoints {
		want[i] = e.URL + " " + leaf
	}
	var got []string
	stable := 0
	for deadline := time.Now().Add(settle); stable < 3 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = s.served(ctx); strings.Join(got, "\n") == strings.Join(want, "\n") {
			stable++
		} else {
			stable = 0
		}
	}
	if stable < 3 {
		var wrong []string
		for i, g := range got {
			if g != want[i] {
				wrong = append(wrong, g)
			}
		}
		return fmt.Errorf("after the reload not every endpoint serves %s (%s): is the service running, and does it read %s?", leaf, strings.Join(wrong, "; "), s.CertPath)
	}
	return nil
}

// deployedLeaf names the leaf of the certificate file.
func (s *Service) deployedLeaf() (string, error) {
	b, err := s.Host.ReadFile(s.CertPath)
	if err != nil || b == nil {
		return "", fmt.Errorf("reading %s: %v", s.CertPath, err)
	}
	chain, err := certcrypto.ParsePEMBundle(b)
	if err != nil || len(chain) == 0 {
		return "", fmt.Errorf("%s holds no certificate: %v", s.CertPath, err)
	}
	return probe.Leaf(chain[0]), nil
}

// restore puts CERT_FILE.prev and KEY_FILE.prev back, as the certificate's
// deployment left them.
func (s *Service) restore() error {
	for _, p := range []string{s.KeyPath, s.CertPath} {
		old, err := s.Host.ReadFile(p + ".prev")
		if err != nil {
			return err
		}
		if old == nil {
			return fmt.Errorf("no %s.prev to restore", p)
		}
		mode := fs.FileMode(0o644)
		if p == s.KeyPath {
			mode = 0o600
		}
		if err := s.Host.WriteFile(p, old, mode); err != nil {
			return err
		}
	}
	return nil
}

// run executes a configured command on the host, quoting its output on failure.
func (s *Service) run(ctx context.Context, what, command string) error {
	if command == "" {
		return nil
	}
	out, err := s.Host.Run(ctx, command)
	if err != nil {
		return fmt.Errorf("%s %q failed (%v): %s", what, command, err, strings.TrimSpace(string(bytes.TrimSpace(out))))
	}
	return nil
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }
