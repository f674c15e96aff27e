package webserver

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/internal/probe"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// Vhost is a managed config file together with what its server really
// serves. A vhost whose reload_command is empty has no running server to ask
// (the quickstart), so it is not probed.
type Vhost struct {
	*ServerConfig
	Probe *probe.Vhost // nil: not probed
	// Certificate is what a TLS vhost serves (nil for plain HTTP); CertAddr
	// its address.
	Certificate providers.KeyDeployer
	CertAddr    schema.Address
	ConfigFile  string // config_file as configured, for step descriptions
	// Description is the server, listen address and names, for the
	// inventory: "nginx 443, www.example.test".
	Description string
}

var (
	_ providers.Deleter       = (*Vhost)(nil)
	_ providers.Server        = (*Vhost)(nil)
	_ providers.TLSEndpointer = (*Vhost)(nil)
	_ providers.Described     = (*Vhost)(nil)
	_ providers.Measured      = (*Vhost)(nil)
	_ providers.Adopter       = (*Vhost)(nil)
)

// Measure is, per server name of a TLS vhost that is probed, the served
// certificate's expiry and whether it is the deployed one; the endpoint
// is https://NAME:PORT.
func (v *Vhost) Measure(observed, desired providers.Value) []providers.Sample {
	if v.Probe == nil || !v.Probe.TLS {
		return nil
	}
	_, port, _ := net.SplitHostPort(v.Probe.Addr)
	return providers.ServedSamples(observed, desired, func(name string) string { return "https://" + net.JoinHostPort(name, port) })
}

// Describe says what the vhost is, for the inventory.
func (v *Vhost) Describe() string { return v.Description }

// TLSEndpoints is where a TLS vhost that is probed serves its names.
func (v *Vhost) TLSEndpoints() []providers.Endpoint {
	if v.Probe == nil || !v.Probe.TLS {
		return nil
	}
	return []providers.Endpoint{{URL: v.Probe.Addr, Addr: v.Probe.Addr, Names: v.Probe.Names}}
}

// Serves is the certificate the vhost serves (none for plain HTTP).
func (v *Vhost) Serves() schema.Address { return v.CertAddr }

// Delete removes the file, then tests and reloads the server without it.
func (v *Vhost) Delete(providers.Value) *providers.Change {
	return &providers.Change{Action: providers.Delete,
		Reasons: []string{"its block is gone: the server would go on serving it"},
		Phases:  []providers.Phase{{Name: providers.PhaseDelete, Description: "remove " + v.ConfigFile + ", run the config test, reload"}}}
}

// Plan renders the file and says what the server should serve. A vhost
// whose file is as wanted still reloads when its certificate is redeployed
// under it.
func (v *Vhost) Plan(observed providers.Value, opts providers.PlanOptions) (providers.Value, *providers.Change) {
	desired := v.Desired()
	adopted, differs := v.adopted(opts.Adopted)
	if adopted && len(differs) == 0 { // the file an import adopted says what the block says: it stays as written
		desired = providers.Value{"config_file": observed["config_file"], "content": observed["content"]}
	}
	for k, a := range v.ServedDesired(v.servedLeaf()) {
		desired[k] = a
	}
	redeployed := v.Certificate != nil && v.Certificate.KeyPlan().Issue
	var after []providers.Dep
	if redeployed {
		after = []providers.Dep{{Addr: v.CertAddr}}
	}
	write := providers.Phase{Name: PhaseWrite, Description: "write " + v.ConfigFile + ", run the config test, reload"}
	if providers.Adopts(observed) {
		write.Description = "adopt and replace " + v.ConfigFile + " (backed up to " + v.ConfigFile + host.BackupSuffix + "), run the config test, reload"
	}
	ch := providers.Diff(desired, observed, write)
	if ch != nil && providers.Adopts(observed) {
		if len(differs) > 0 {
			ch.Reasons = append(ch.Reasons, "the file an import adopted does not say what the block does ("+strings.Join(differs, ", ")+")")
		}
		ch.Reasons = append(ch.Reasons, providers.AdoptReason(v.ConfigFile))
	}
	switch {
	case ch != nil:
		ch.After = after
	case redeployed && observed != nil:
		ch = &providers.Change{Action: providers.Update, Reload: true, After: after,
			Reasons: []string{v.CertAddr.String() + " is redeployed; the server must reload to serve it"},
			Phases:  []providers.Phase{{Name: PhaseReload, Description: "reload the server so it serves the new certificate"}}}
	}
	return desired, ch
}

// servedLeaf is the certificate the server should present: the one in its
// certificate file, unknown while it is being issued.
func (v *Vhost) servedLeaf() *providers.Attr {
	if v.Certificate == nil {
		return nil
	}
	kp := v.Certificate.KeyPlan()
	if kp.Issue {
		a := providers.Unknown(v.CertAddr.String() + " is deployed")
		return &a
	}
	if len(kp.Live) > 0 {
		a := providers.String(probe.Leaf(kp.Live[0]))
		return &a
	}
	return nil
}

// Observe reads the file and, when the file exists, probes the server.
func (v *Vhost) Observe(ctx context.Context) (providers.Value, error) {
	val, err := v.ServerConfig.Observe(ctx)
	if err != nil || val == nil || v.Probe == nil {
		return val, err
	}
	served, err := v.served(ctx)
	if err != nil {
		return nil, err
	}
	for k, a := range served {
		val[k] = a
	}
	return val, nil
}

// served is what the running server answers, as values.
func (v *Vhost) served(ctx context.Context) (providers.Value, error) {
	s, err := v.Probe.Observe(ctx)
	if err != nil {
		return nil, err
	}
	out := providers.Value{}
	for k, a := range s {
		switch a := a.(type) {
		case string:
			out[k] = providers.String(a)
		case []string:
			out[k] = providers.List(a...)
		}
	}
	return out, nil
}

// Apply writes (or reloads) and then waits until the server serves what it
// should, want (the certificate file's leaf included): a reload is a signal,
// and workers of the previous configuration may answer for a while (after
// two quick reloads, nginx can run two generations side by side). So the
// served state must be seen three times in a row, for up to 10s.
func (v *Vhost) Apply(ctx context.Context, _ *providers.Change, phase string) error {
	want := v.ServedDesired(v.servedLeaf())
	if err := v.ServerConfig.Apply(ctx, nil, phase); err != nil {
		return err
	}
	if v.Probe == nil || phase == providers.PhaseDelete {
		return nil
	}
	if phase == PhaseChallenge {
		delete(want, "served_hsts") // HSTS comes with the full configuration
	}
	for k, a := range want {
		if !a.Known() { // a certificate not issued yet: nothing to wait for
			delete(want, k)
		}
	}
	stable := 0
	deadline := time.Now().Add(10 * time.Second)
	for ; stable < 3 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got, err := v.served(ctx); err == nil && providers.Differs(want, got) == nil {
			stable++
		} else {
			stable = 0
		}
	}
	if stable < 3 {
		got, err := v.served(ctx)
		if err != nil {
			return fmt.Errorf("after the reload the server cannot be probed (%v): is the server running, and is reload_command right?", err)
		}
		var differ []string
		for _, k := range providers.Differs(want, got) {
			differ = append(differ, fmt.Sprintf("%s is %s, want %s", k, got[k], want[k]))
		}
		return fmt.Errorf("after the reload the server still does not serve what it should (%s): is the server running, and is reload_command right?", strings.Join(differ, "; "))
	}
	return nil
}

// ServedDesired is what the server should answer: the certificate file's
// leaf on every name (cert; unknown while it is being issued, nil when there
// is none), the policy's protocols, the HSTS header, the same-host redirect,
// the challenge path not redirected.
func (v *Vhost) ServedDesired(cert *providers.Attr) providers.Value {
	out := providers.Value{}
	if v.Probe == nil {
		return out
	}
	s := v.Site
	if s.TLS() {
		if cert != nil {
			if cert.Known() {
				var l, chains []string
				for _, n := range s.Names {
					l = append(l, n+" "+cert.Str)
					chains = append(chains, n+" "+probe.ChainVerifies)
				}
				out["served_certificate"] = providers.List(l...)
				if v.Probe.VerifiesChain() {
					out["served_chain"] = providers.List(chains...)
				}
			} else {
				out["served_certificate"] = *cert
				if v.Probe.VerifiesChain() {
					out["served_chain"] = *cert
				}
			}
		}
		if len(s.Protocols) > 0 {
			out["served_protocols"] = providers.List(probe.SortedProtocols(s.Protocols)...)
		}
		out["served_hsts"] = providers.String(s.HSTS)
		return out
	}
	if s.RedirectHTTPS {
		out["served_redirect"] = providers.String(probe.WantRedirect(s.Names[0]))
		out["served_hsts"] = providers.String(s.HSTS)
	}
	if s.ACMEWebroot != "" {
		out["served_challenge"] = providers.String("not redirected")
	}
	return out
}

// Probed says where the running server is probed and what the
// configuration sends there, for the rules' live checks; ok is false when
// no server runs.
func (v *Vhost) Probed() (addr, hsts, acmeWebroot string, ok bool) {
	if v.Probe == nil {
		return "", "", "", false
	}
	return v.Probe.Addr, v.Site.HSTS, v.Site.ACMEWebroot, true
}
