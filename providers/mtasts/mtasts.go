package mtasts

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/internal/netpolicy"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/providers/webserver"
	"github.com/trustform/trustform/schema"
)

// Phases of an MTA-STS change: the policy file, then (rule
// mta-sts-policy-before-id) the TXT records that announce it.
const (
	PhaseWritePolicy = "write-policy"
	PhasePublishID   = providers.PhasePublishID
)

// MTASTS is one mail domain's MTA-STS policy (one mta_sts block): the
// policy file in the vhost's root, the _mta-sts TXT record with the
// policy's id, and the _smtp._tls TLS-RPT record.
type MTASTS struct {
	Domain   string // lower case, no trailing dot
	Zone     dns.Zone
	ZoneName string
	Mode     string
	MX       []string // as configured; nil: the domain's MX hosts
	MaxAge   time.Duration
	RUA      []string // TLS-RPT addresses; nil: no TLS-RPT record
	// Host and PolicyPath are where the policy file goes (the vhost's
	// root); FetchAddr is where the vhost answers (host:port), Roots the
	// roots its certificate builds to (nil: the system's).
	Host       host.Host
	PolicyPath string
	FetchAddr  string
	Roots      func() *x509.CertPool
	Vhost      schema.Address
	Cert       schema.Address

	mx       []string    // the domain's MX hosts as observed
	services []mxService // the managed services that answer SMTP
	// The _mta-sts TXT records every authoritative server serves, and
	// the servers that lag: a retirement's wait counts from then.
	visible, lagging []string
}

var (
	_ providers.Resource  = (*MTASTS)(nil)
	_ providers.Described = (*MTASTS)(nil)
	_ providers.Measured  = (*MTASTS)(nil)
)

// Measure is whether senders fetch the policy as deployed under the
// published id (served), and whether every managed MX serves a
// certificate valid for its name (mx_tls).
func (m *MTASTS) Measure(observed, _ providers.Value) []providers.Sample {
	return []providers.Sample{
		{Name: providers.MetricMTASTSServed, Value: providers.Bool(observed["served"].Str == "yes")},
		{Name: providers.MetricMTASTSMXCertificates, Value: providers.Bool(observed["mx_tls"].Str == "yes")},
	}
}

func bind(b providers.Binding, block schema.Block) (any, hcl.Diagnostics) {
	blk, cfg := block.(*Block), b.Config()
	zone, ok := b.Bound(blk.Zone.Address).(dns.Zone)
	v, vok := cfg.Block(blk.Vhost.Address).(*webserver.VhostBlock)
	if !ok || !vok {
		return nil, nil // already a diagnostic
	}
	m := &MTASTS{Domain: blk.Domain, Zone: zone, ZoneName: blk.Zone.Address.Name, Mode: blk.Mode, MX: blk.MX, MaxAge: blk.MaxAgeDuration,
		Host: b.Host(v.Host), PolicyPath: path.Join(cfg.LocalPath(v.Host, v.Root), ".well-known", "mta-sts.txt"),
		Vhost: blk.Vhost.Address, Cert: v.Certificate.Address}
	if blk.TLSRPT != nil {
		m.RUA = blk.TLSRPT.RUA
	}
	m.services = mxServices(cfg)
	for i, s := range m.services {
		if d, ok := b.Bound(s.Cert).(providers.Deployment); ok {
			m.services[i].Roots = d.Deployed().Roots
		}
	}
	if p := webserver.Prober(cfg, v); p != nil {
		m.FetchAddr = p.Addr
	}
	if d, ok := b.Bound(v.Certificate.Address).(providers.Deployment); ok {
		m.Roots = d.Deployed().Roots
	}
	if s, ok := zone.(*dns.Server); ok {
		s.Expect(m.idOwner(), mdns.TypeTXT)
		s.Expect(m.rptOwner(), mdns.TypeTXT)
	}
	return m, nil
}

func (m *MTASTS) idOwner() string  { return "_mta-sts." + m.Domain + "." }
func (m *MTASTS) rptOwner() string { return "_smtp._tls." + m.Domain + "." }

// Describe names the domain, for the inventory.
func (m *MTASTS) Describe() string { return "MTA-STS of " + m.Domain }

// policy is the policy the configuration asks for, with the MX hosts as
// observed where mx is not set.
func (m *MTASTS) policy() Policy {
	mx := m.MX
	if mx == nil {
		mx = m.mx
	}
	return Policy{Mode: m.Mode, MX: mx, MaxAge: m.MaxAge}
}

// rpt is the TLS-RPT record, in presentation form.
func (m *MTASTS) rpt() string {
	return fmt.Sprintf("%q", "v=TLSRPTv1; rua="+strings.Join(m.RUA, ","))
}

// Observe reads the policy file, the TXT records and, without mx, the
// domain's MX hosts as the zone's primary serves them.
func (m *MTASTS) Observe(ctx context.Context) (providers.Value, error) {
	targets, err := m.Zone.MX(ctx)
	if err != nil {
		return nil, err
	}
	m.mx = nil
	for _, t := range targets {
		m.mx = append(m.mx, strings.TrimSuffix(t, "."))
	}
	slices.Sort(m.mx)
	file, err := m.Host.ReadFile(m.PolicyPath)
	if err != nil {
		return nil, err
	}
	ids, err := m.Zone.RRset(ctx, m.idOwner(), mdns.TypeTXT)
	if err != nil {
		return nil, err
	}
	rpt, err := m.Zone.RRset(ctx, m.rptOwner(), mdns.TypeTXT)
	if err != nil {
		return nil, err
	}
	served, err := m.Zone.Propagation(ctx, m.idOwner(), mdns.TypeTXT)
	if err != nil {
		return nil, err
	}
	m.visible, m.lagging = served.Visible, served.Lagging
	if file == nil && len(ids) == 0 && len(rpt) == 0 {
		return nil, nil
	}
	v := providers.Value{"domain": providers.String(m.Domain), "policy": providers.List(parseLines(file)...), "id": providers.String("")}
	for _, r := range dns.Presentation(ids) {
		if id := txtID(r); id != "" {
			v["id"] = providers.String(id)
		}
	}
	if recs := dns.Presentation(rpt); len(recs) > 0 {
		v["tls_rpt"] = providers.String(checkRPT(recs))
	}
	v["mx_covered"] = providers.String(m.covered()) // drift when an MX appears that the policy does not cover
	v["mx_tls"] = providers.String("yes")
	if m.Mode != "none" {
		v["mx_tls"] = providers.String(m.mxTLS(ctx))
	}
	v["served"] = providers.String(m.served(ctx, file, v["id"].Str))
	return v, nil
}

// served is what senders find, checked as they fetch it: "yes" when the
// vhost serves the policy file's bytes under the published id, else why
// not. Nothing is fetched before the file exists.
func (m *MTASTS) served(ctx context.Context, file []byte, id string) string {
	if file == nil {
		return "no policy file"
	}
	text, err := m.Fetch(ctx)
	switch {
	case err != nil:
		return "no: " + err.Error()
	case text != string(file):
		return fmt.Sprintf("no: %s serves %q, not the policy file", m.url(), text)
	case id != "" && idOf(text) != id:
		return fmt.Sprintf("no: the published id %s is not the served policy's (%s)", id, idOf(text))
	}
	return "yes"
}

// covered says whether the policy's patterns match every MX host the zone
// serves: "yes", or the hosts they miss.
func (m *MTASTS) covered() string {
	var missed []string
	for _, mx := range m.mx {
		if !slices.ContainsFunc(m.policy().MX, func(p string) bool { return covers(p, mx) }) {
			missed = append(missed, mx)
		}
	}
	if len(missed) == 0 {
		return "yes"
	}
	return "no: " + strings.Join(missed, ", ")
}

// Warnings: moving to enforce without TLS-RPT means nobody hears of the
// senders that stop delivering.
func (m *MTASTS) Warnings() []providers.Warning {
	if m.Mode == "enforce" && m.RUA == nil {
		return []providers.Warning{{Attr: "mode", Summary: "enforce without TLS-RPT",
			Detail: "Under enforce, senders that cannot validate an MX stop delivering to it, and without a tls_rpt block nobody is told. Add tls_rpt { rua = [\"mailto:…\"] } to hear of failures (RFC 8460)."}}
	}
	return nil
}

// Plan asks for the policy file, then the TXT records announcing its id.
func (m *MTASTS) Plan(observed providers.Value, _ providers.PlanOptions) (providers.Value, *providers.Change) {
	p := m.policy()
	v := providers.Value{"domain": providers.String(m.Domain), "policy": providers.List(p.Lines()...), "id": providers.String(p.ID()), "mx_covered": providers.String("yes"), "mx_tls": providers.String("yes"), "served": providers.String("yes")}
	if m.RUA != nil {
		v["tls_rpt"] = providers.String(m.rpt())
	}
	ch := providers.Diff(v, observed)
	if ch == nil {
		return v, nil
	}
	if observed == nil || !v["policy"].Equal(observed["policy"]) {
		ch.Phases = append(ch.Phases, providers.Phase{Name: PhaseWritePolicy, Description: "write the policy (" + m.Mode + ") to " + m.PolicyPath + ", served at " + m.url()})
	}
	ch.Phases = append(ch.Phases, providers.Phase{Name: PhasePublishID, Placed: true,
		Description: "fetch the policy back as senders do, then publish its id " + p.ID() + " at " + m.idOwner() + rptWhy(m.RUA)})
	ch.After = []providers.Dep{{Addr: m.Vhost}, {Addr: m.Cert}}
	return v, ch
}

func rptWhy(rua []string) string {
	if rua == nil {
		return ""
	}
	return " and the TLS-RPT record"
}

// url is where senders fetch the policy.
func (m *MTASTS) url() string { return "https://mta-sts." + m.Domain + "/.well-known/mta-sts.txt" }

// retired is the policy a retirement serves: mode none, under a new id.
func (m *MTASTS) retired() Policy {
	p := m.policy()
	p.Mode = "none"
	return p
}

// Delete retires MTA-STS (RFC 8461 §8.3): the policy in mode none under a
// new id, served for max_age, so that senders drop the policy they keep
// instead of enforcing it, and only then the file and the records go.
func (m *MTASTS) Delete(observed providers.Value) *providers.Change {
	ch := &providers.Change{Action: providers.Delete,
		Reasons: []string{fmt.Sprintf("its block is gone: MTA-STS of %s is retired through mode: none, served for max_age (%s) before the policy and its records are removed, so that senders drop the policy they keep rather than enforce it", m.Domain, m.MaxAge)}}
	none := m.retired()
	if !providers.List(none.Lines()...).Equal(observed["policy"]) {
		ch.Phases = append(ch.Phases,
			providers.Phase{Name: PhaseWritePolicy, Description: "write the retiring policy (mode: none) to " + m.PolicyPath},
			providers.Phase{Name: PhasePublishID, Placed: true, Description: "fetch the retiring policy back, then publish its id " + none.ID()})
	}
	ch.Phases = append(ch.Phases, providers.Phase{Name: providers.PhaseDelete, Description: "remove the policy file and the _mta-sts and _smtp._tls records, once senders had max_age to drop the policy"})
	return ch
}

// RetireAfter is how long the retiring policy is served before it goes.
func (m *MTASTS) RetireAfter() time.Duration { return m.MaxAge }

// Target is the _mta-sts record of the retiring policy, whose visibility
// a retirement's wait counts from.
func (m *MTASTS) Target() (string, string) {
	return fmt.Sprintf("%q", "v=STSv1; id="+m.retired().ID()), ""
}

// Visible lists the _mta-sts records every authoritative server serves.
func (m *MTASTS) Visible() []string { return m.visible }

// Lagging names the servers that do not serve the zone's _mta-sts record.
func (m *MTASTS) Lagging() []string { return m.lagging }

// Everywhere reports whether every server serves the _mta-sts record.
func (m *MTASTS) Everywhere() bool { return len(m.lagging) == 0 }

// Apply writes the policy file, or fetches it back and publishes the TXT
// records, or (a retirement's last step) removes both. A deletion's policy
// is the retiring one.
func (m *MTASTS) Apply(ctx context.Context, ch *providers.Change, phase string) error {
	p := m.policy()
	if ch != nil && ch.Action == providers.Delete {
		p = m.retired()
	}
	switch phase {
	case providers.PhaseDelete:
		if err := m.Zone.Update(ctx, []dns.RRset{{Owner: m.idOwner(), Type: mdns.TypeTXT, TTL: 3600}, {Owner: m.rptOwner(), Type: mdns.TypeTXT, TTL: 3600}}); err != nil {
			return err
		}
		return m.Host.Remove(m.PolicyPath)
	case PhaseWritePolicy:
		return m.Host.WriteFile(m.PolicyPath, []byte(p.Text()), 0o644)
	case PhasePublishID:
		served, err := m.Fetch(ctx)
		if err != nil {
			return fmt.Errorf("mta-sts-policy-before-id: the id is not published: %w", err)
		}
		if served != p.Text() {
			return fmt.Errorf("mta-sts-policy-before-id: the id is not published: %s serves %q, not the policy %q", m.url(), served, p.Text())
		}
		sets := []dns.RRset{{Owner: m.idOwner(), Type: mdns.TypeTXT, TTL: 3600, Records: []string{fmt.Sprintf("%q", "v=STSv1; id="+p.ID())}}}
		if m.RUA != nil {
			sets = append(sets, dns.RRset{Owner: m.rptOwner(), Type: mdns.TypeTXT, TTL: 3600, Records: []string{m.rpt()}})
		}
		if _, err := m.Zone.ChainValid(ctx); err != nil {
			return fmt.Errorf("dnssec-chain-valid: nothing is published in zone %s: %w", m.ZoneName, err)
		}
		return m.Zone.Update(ctx, sets)
	}
	return fmt.Errorf("mta_sts: unknown phase %q", phase)
}

// Fetch gets the policy as a sender does (RFC 8461 §3.3): HTTPS to
// mta-sts.<domain> (at the vhost's address), a certificate valid for that
// name, no redirect followed, 200 with text/plain.
func (m *MTASTS) Fetch(ctx context.Context) (string, error) {
	name := "mta-sts." + m.Domain
	var pool *x509.CertPool
	if m.Roots != nil {
		pool = m.Roots()
	}
	if pool == nil {
		var err error
		if pool, err = x509.SystemCertPool(); err != nil {
			return "", err
		}
	}
	dial := netpolicy.Dialer(&net.Dialer{Timeout: 10 * time.Second})
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: name, MinVersion: tls.VersionTLS12},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dial.DialContext(ctx, network, m.FetchAddr)
			},
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.url(), nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("fetching %s: %w", m.url(), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch ct := resp.Header.Get("Content-Type"); {
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("%s answered %s (senders follow no redirect and take only 200)", m.url(), resp.Status)
	case !strings.HasPrefix(ct, "text/plain"):
		return "", fmt.Errorf("%s is served as %q, not text/plain (RFC 8461 §3.3)", m.url(), ct)
	}
	return string(body), nil
}
