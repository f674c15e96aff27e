package dns

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/internal/netpolicy"
)

// PowerDNS is a zone served by PowerDNS Authoritative and changed through
// its HTTP API (https://doc.powerdns.com/authoritative/http-api/zone.html):
// the zone is read with one GET, and each change set is one PATCH, which
// PowerDNS applies in one transaction. Visibility is never the API's word:
// Propagation asks every authoritative server. By hand: no served Go module
// speaks this API.
type PowerDNS struct {
	Origin   string // fully qualified
	URL      string // the API's base, "http://127.0.0.1:8081"
	ServerID string // "localhost" unless the API says otherwise
	// Token is the API key, sent as X-API-Key only to URL; never in state,
	// plans, logs or errors.
	Token         string
	Nameservers   []string // host:port; none: the zone's NS RRset
	RequireDNSSEC bool
	MinValidity   time.Duration // see Server.MinValidity
	Timeout       time.Duration // per request; default 10 s

	mu       sync.Mutex
	zone     map[string][]mdns.RR // by key, as the last GET showed it; nil: not read
	observed map[string][]string  // by key: what the kinds read, compared before a change
	apexKey  *bool
	txt      txtEditor
}

var _ Zone = (*PowerDNS)(nil)

// pdnsRRset is an RRset in the API's JSON.
type pdnsRRset struct {
	Name       string       `json:"name"`
	Type       string       `json:"type"`
	TTL        uint32       `json:"ttl,omitempty"`
	ChangeType string       `json:"changetype,omitempty"`
	Records    []pdnsRecord `json:"records"`
}

type pdnsRecord struct {
	Content  string `json:"content"`
	Disabled bool   `json:"disabled"`
}

func (p *PowerDNS) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return 10 * time.Second
}

// do sends one API request and decodes the answer into out (nil: none).
// An error names the zone, the API and its message, never the key.
func (p *PowerDNS) do(ctx context.Context, method string, body, out any) error {
	u := strings.TrimSuffix(p.URL, "/") + "/api/v1/servers/" + url.PathEscape(p.serverID()) + "/zones/" + url.PathEscape(p.Origin)
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("zone %s: PowerDNS API %s: %w", p.Origin, p.URL, err)
	}
	req.Header.Set("X-API-Key", p.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c := &http.Client{Timeout: p.timeout(), Transport: &http.Transport{DialContext: netpolicy.Dialer(&net.Dialer{Timeout: p.timeout()}).DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }} // the key goes to URL only
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("zone %s: PowerDNS API %s: %s", p.Origin, p.URL, strings.ReplaceAll(err.Error(), p.Token, "…"))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return fmt.Errorf("zone %s: PowerDNS API %s answered %s to %s: %s%s", p.Origin, p.URL, resp.Status, method, strings.ReplaceAll(msg, p.Token, "…"), pdnsHint(resp.StatusCode))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("zone %s: PowerDNS API %s: the answer is not the zone: %v", p.Origin, p.URL, err)
	}
	return nil
}

// pdnsHint says what an API status means here.
func pdnsHint(status int) string {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return " (is the API key the server's api-key?)"
	case http.StatusNotFound:
		return " (does the server hold this zone, under this server_id?)"
	case http.StatusUnprocessableEntity:
		return " (the server refused the records)"
	}
	return ""
}

func (p *PowerDNS) serverID() string {
	if p.ServerID == "" {
		return "localhost"
	}
	return p.ServerID
}

// read GETs the zone: every RRset, in one request.
func (p *PowerDNS) read(ctx context.Context) (map[string][]mdns.RR, error) {
	var z struct {
		RRsets []pdnsRRset `json:"rrsets"`
	}
	if err := p.do(ctx, http.MethodGet, nil, &z); err != nil {
		return nil, err
	}
	out := map[string][]mdns.RR{}
	for _, set := range z.RRsets {
		t, ok := mdns.StringToType[set.Type]
		if !ok {
			continue
		}
		for _, r := range set.Records {
			if r.Disabled {
				continue
			}
			rr, err := mdns.NewRR(fmt.Sprintf("%s %d IN %s %s", mdns.Fqdn(set.Name), set.TTL, set.Type, r.Content))
			if err != nil || rr == nil {
				return nil, fmt.Errorf("zone %s: PowerDNS API %s: the %s record of %s does not parse: %v", p.Origin, p.URL, set.Type, set.Name, err)
			}
			k := key(set.Name, t)
			out[k] = append(out[k], rr)
		}
	}
	return out, nil
}

// zoneNow is the zone as read in this run, read on first use.
func (p *PowerDNS) zoneNow(ctx context.Context) (map[string][]mdns.RR, error) {
	p.mu.Lock()
	z := p.zone
	p.mu.Unlock()
	if z != nil {
		return z, nil
	}
	z, err := p.read(ctx)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.zone = z
	p.mu.Unlock()
	return z, nil
}

// RRset returns the records of type t at owner, as the API holds them, and
// remembers them: Update refuses to change an RRset someone else changed
// since.
func (p *PowerDNS) RRset(ctx context.Context, owner string, t uint16) ([]mdns.RR, error) {
	z, err := p.zoneNow(ctx)
	if err != nil {
		return nil, err
	}
	rrs := z[key(owner, t)]
	p.mu.Lock()
	if p.observed == nil {
		p.observed = map[string][]string{}
	}
	p.observed[key(owner, t)] = Presentation(rrs)
	p.mu.Unlock()
	return rrs, nil
}

// Update replaces the RRsets in one PATCH, after checking that none
// changed since it was read.
func (p *PowerDNS) Update(ctx context.Context, sets []RRset) error {
	now, err := p.read(ctx)
	if err != nil {
		return err
	}
	var patch []pdnsRRset
	for _, set := range sets {
		k := key(set.Owner, set.Type)
		p.mu.Lock()
		seen, ok := p.observed[k]
		p.mu.Unlock()
		typ := mdns.TypeToString[set.Type]
		switch {
		case !ok:
			return fmt.Errorf("%s %s was not observed before the update; run plan again", set.Owner, typ)
		case !slices.Equal(seen, Presentation(now[k])):
			return fmt.Errorf("zone %s: %s %s changed on the server since it was read (%q, now %q): run plan again", p.Origin, set.Owner, typ, seen, Presentation(now[k]))
		}
		rrs, err := set.toRRs()
		if err != nil {
			return err
		}
		one := pdnsRRset{Name: strings.ToLower(mdns.Fqdn(set.Owner)), Type: typ, TTL: set.TTL, ChangeType: "REPLACE", Records: []pdnsRecord{}}
		for _, rr := range rrs {
			one.Records = append(one.Records, pdnsRecord{Content: rdata(rr)})
		}
		if len(rrs) == 0 {
			one.ChangeType, one.TTL = "DELETE", 0
		}
		patch = append(patch, one)
	}
	p.mu.Lock()
	p.zone, p.apexKey = nil, nil // what was read before this write is stale now
	p.mu.Unlock()
	return p.do(ctx, http.MethodPatch, map[string]any{"rrsets": patch}, nil)
}

// nameservers are the authoritative servers to ask: Nameservers, or the
// zone's NS RRset resolved by the runner's resolver.
func (p *PowerDNS) nameservers(ctx context.Context) ([]string, error) {
	if len(p.Nameservers) > 0 {
		return WithPort(p.Nameservers), nil
	}
	z, err := p.zoneNow(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rr := range z[key(p.Origin, mdns.TypeNS)] {
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, rr.(*mdns.NS).Ns)
		if err != nil {
			return nil, fmt.Errorf("zone %s: resolving its nameserver %s: %w (set nameservers to list them)", p.Origin, rr.(*mdns.NS).Ns, err)
		}
		for _, a := range addrs {
			out = append(out, net.JoinHostPort(a.IP.String(), "53"))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("zone %s: no nameservers; set nameservers", p.Origin)
	}
	return out, nil
}

// Propagation asks every authoritative server for the RRset: the API's
// records are what is wanted, never proof that they are served.
func (p *PowerDNS) Propagation(ctx context.Context, owner string, t uint16) (visible, lagging []string, err error) {
	rrs, err := p.RRset(ctx, owner, t)
	if err != nil {
		return nil, nil, err
	}
	servers, err := p.nameservers(ctx)
	if err != nil {
		return nil, nil, err
	}
	visible, lagging = servedBy(ctx, servers, owner, t, Presentation(rrs), p.RequireDNSSEC, p.MinValidity, p.timeout())
	return visible, lagging, nil
}

// Signed reports whether the first authoritative server serves the RRset
// with an RRSIG that stays valid long enough (hasRRSIG), and a signed
// DNSKEY.
func (p *PowerDNS) Signed(ctx context.Context, owner string, t uint16) (bool, error) {
	servers, err := p.nameservers(ctx)
	if err != nil {
		return false, err
	}
	r, err := ask(ctx, servers[0], owner, t, p.timeout())
	if err != nil || !hasRRSIG(r, t, p.MinValidity) {
		return false, err
	}
	return p.KeysSigned(ctx)
}

// KeysSigned reports whether the first authoritative server serves the
// apex DNSKEY RRset signed (asked once per run).
func (p *PowerDNS) KeysSigned(ctx context.Context) (bool, error) {
	p.mu.Lock()
	known := p.apexKey
	p.mu.Unlock()
	if known != nil {
		return *known, nil
	}
	servers, err := p.nameservers(ctx)
	if err != nil {
		return false, err
	}
	r, err := ask(ctx, servers[0], p.Origin, mdns.TypeDNSKEY, p.timeout())
	if err != nil {
		return false, err
	}
	signed := hasRRSIG(r, mdns.TypeDNSKEY, 0)
	p.mu.Lock()
	p.apexKey = &signed
	p.mu.Unlock()
	return signed, nil
}

// MX lists the targets of the apex MX RRset.
func (p *PowerDNS) MX(ctx context.Context) ([]string, error) {
	z, err := p.zoneNow(ctx)
	if err != nil {
		return nil, err
	}
	return mxTargets(z[key(p.Origin, mdns.TypeMX)], p.Origin), nil
}

// Hosts lists the owners of A and AAAA records.
func (p *PowerDNS) Hosts(ctx context.Context) ([]string, error) {
	z, err := p.zoneNow(ctx)
	if err != nil {
		return nil, err
	}
	var rrs []mdns.RR
	for _, set := range z {
		rrs = append(rrs, set...)
	}
	return addressOwners(rrs), nil
}

// Apex is the zone's name, fully qualified.
func (p *PowerDNS) Apex() string { return p.Origin }

// AddTXT publishes a dns-01 challenge value at fqdn.
func (p *PowerDNS) AddTXT(ctx context.Context, fqdn, value string) error {
	return p.txt.edit(ctx, p, fqdn, value, true)
}

// RemoveTXT takes a dns-01 challenge value out of fqdn's TXT RRset.
func (p *PowerDNS) RemoveTXT(ctx context.Context, fqdn, value string) error {
	return p.txt.edit(ctx, p, fqdn, value, false)
}

// TXTServed lists the authoritative servers that do not serve value at
// fqdn yet.
func (p *PowerDNS) TXTServed(ctx context.Context, fqdn, value string) (lagging []string, err error) {
	servers, err := p.nameservers(ctx)
	if err != nil {
		return nil, err
	}
	for _, ns := range servers {
		r, err := ask(ctx, ns, fqdn, mdns.TypeTXT, p.timeout())
		switch {
		case err != nil:
			lagging = append(lagging, ns+" (no answer)")
		case !servesTXT(r, fqdn, value):
			lagging = append(lagging, ns)
		}
	}
	return lagging, nil
}

// servedBy asks each server for the RRset: the records all of them serve
// (each signed, with requireDNSSEC), and those that serve other records.
func servedBy(ctx context.Context, servers []string, owner string, t uint16, want []string, requireDNSSEC bool, minValidity, timeout time.Duration) (visible, lagging []string) {
	visible = want
	for _, ns := range servers {
		r, err := ask(ctx, ns, owner, t, timeout)
		if err != nil {
			lagging = append(lagging, ns+" (no answer)")
			visible = nil
			continue
		}
		got := Presentation(recordsOf(r, owner, t))
		if requireDNSSEC && len(got) > 0 && !hasRRSIG(r, t, minValidity) {
			lagging = append(lagging, ns+" (no RRSIG)")
			visible = nil
			continue
		}
		if !slices.Equal(got, want) {
			lagging = append(lagging, ns)
		}
		visible = intersect(visible, got)
	}
	return visible, lagging
}
