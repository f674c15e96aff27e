package engine

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/files"
	"github.com/trustform/trustform/providers/probe"
	"github.com/trustform/trustform/schema"
)

// vhost is a managed config file together with what its server really
// serves. A vhost whose reload_command is empty has no running server to ask
// (the quickstart), so it is not probed.
type vhost struct {
	*files.ServerConfig
	probe *probe.Vhost // nil: not probed
}

// Observe reads the file and, when the file exists, probes the server.
func (v *vhost) Observe(ctx context.Context) (providers.Value, error) {
	val, err := v.ServerConfig.Observe(ctx)
	if err != nil || val == nil || v.probe == nil {
		return val, err
	}
	served, err := v.probe.Observe(ctx)
	if err != nil {
		return nil, err
	}
	for k, a := range served {
		val[k] = a
	}
	return val, nil
}

// Apply writes (or reloads) and then waits until the server serves what it
// should, want (the certificate file's leaf included): a reload is a signal,
// and workers of the previous configuration may answer for a while (after
// two quick reloads, nginx can run two generations side by side). So the
// served state must be seen three times in a row, for up to 10s.
func (v *vhost) Apply(ctx context.Context, phase string, want providers.Value) error {
	if err := v.ServerConfig.Apply(ctx, phase); err != nil {
		return err
	}
	if v.probe == nil {
		return nil
	}
	if phase == files.PhaseChallenge {
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
		if got, err := v.probe.Observe(ctx); err == nil && providers.Differs(want, got) == nil {
			stable++
		} else {
			stable = 0
		}
	}
	if stable < 3 {
		got, _ := v.probe.Observe(ctx)
		return fmt.Errorf("after the reload the server still does not serve what it should (%v differ): is the server running, and is reload_command right?", providers.Differs(want, got))
	}
	return nil
}

// servedDesired is what the server should answer: the certificate file's
// leaf on every name (cert; unknown while it is being issued, nil when there
// is none), the policy's protocols, the HSTS header, the same-host redirect,
// the challenge path not redirected.
func (v *vhost) servedDesired(cert *providers.Attr) providers.Value {
	out := providers.Value{}
	if v.probe == nil {
		return out
	}
	s := v.Site
	if s.TLS() {
		if cert != nil {
			if cert.Known() {
				var l []string
				for _, n := range s.Names {
					l = append(l, n+" "+cert.Str)
				}
				out["served_certificate"] = providers.List(l...)
			} else {
				out["served_certificate"] = *cert
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

// probeFor returns the prober of a vhost with a running server, or nil.
func (w *world) probeFor(v *schema.Vhost, sc *files.ServerConfig) *probe.Vhost {
	if sc.ReloadCommand == "" {
		return nil
	}
	host, port, _ := net.SplitHostPort(sc.Site.Listen)
	if host == "*" {
		host = "127.0.0.1"
		if h := w.cfg.Host(v.Host); h != nil && h.Address != "" {
			host = h.Address
		}
	}
	return &probe.Vhost{
		Addr:        net.JoinHostPort(strings.Trim(host, "[]"), port),
		Names:       v.ServerNames,
		TLS:         sc.Site.TLS(),
		ACMEWebroot: sc.Site.ACMEWebroot != "",
	}
}
