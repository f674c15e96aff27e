package dns

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// PowerDNS is PowerDNS Authoritative's HTTP API for one zone
// (https://doc.powerdns.com/authoritative/http-api/zone.html): the zone is
// read with one GET, and each change set is one PATCH, which PowerDNS
// applies in one transaction. By hand: no served Go module speaks this API.
type PowerDNS struct {
	Origin   string // fully qualified
	URL      string // the API's base, "http://127.0.0.1:8081"
	ServerID string // "localhost" unless the API says otherwise
	// Token is the API key, sent as X-API-Key only to URL; never in state,
	// plans, logs or errors.
	Token   string
	Timeout time.Duration // per request; default 10 s
}

var _ HostAPI = (*PowerDNS)(nil)

func (p *PowerDNS) String() string { return "PowerDNS API " + p.URL }

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
func (p *PowerDNS) do(ctx context.Context, method string, body, out any) error {
	u := strings.TrimSuffix(p.URL, "/") + "/api/v1/servers/" + url.PathEscape(p.serverID()) + "/zones/" + url.PathEscape(p.Origin)
	c := hostClient{zone: p.Origin, api: p.String(), header: "X-API-Key", key: p.Token, secret: p.Token, timeout: p.Timeout}
	_, b, err := c.do(ctx, method, u, body)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("zone %s: %s: the answer is not the zone: %v", p.Origin, p, err)
	}
	return nil
}

func (p *PowerDNS) serverID() string {
	if p.ServerID == "" {
		return "localhost"
	}
	return p.ServerID
}

// Read GETs the zone: every RRset, in one request.
func (p *PowerDNS) Read(ctx context.Context) (map[string][]mdns.RR, error) {
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

// Write PATCHes the RRsets in one request: REPLACE, or DELETE for an RRset
// without records.
func (p *PowerDNS) Write(ctx context.Context, sets []RRset) error {
	var patch []pdnsRRset
	for _, set := range sets {
		rrs, err := set.toRRs()
		if err != nil {
			return err
		}
		one := pdnsRRset{Name: strings.ToLower(mdns.Fqdn(set.Owner)), Type: mdns.TypeToString[set.Type], TTL: set.TTL, ChangeType: "REPLACE", Records: []pdnsRecord{}}
		for _, rr := range rrs {
			one.Records = append(one.Records, pdnsRecord{Content: rdata(rr)})
		}
		if len(rrs) == 0 {
			one.ChangeType, one.TTL = "DELETE", 0
		}
		patch = append(patch, one)
	}
	return p.do(ctx, http.MethodPatch, map[string]any{"rrsets": patch}, nil)
}
