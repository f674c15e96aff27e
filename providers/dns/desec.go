package dns

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// DeSECMinTTL is the smallest TTL deSEC accepts for an RRset.
const DeSECMinTTL = 3600

// DeSEC is deSEC's HTTP API for one zone (https://desec.readthedocs.io/en/
// latest/dns/rrsets.html): the zone's RRsets read in pages of a cursor,
// each change set one bulk PATCH of whole RRsets, which deSEC applies all
// or nothing. A 429 is waited out (Retry-After), within the run's context.
// By hand: no served Go module speaks this API with TLSA. Tested against
// an in-process server of its documented requests (desectest), not the
// live service.
type DeSEC struct {
	Origin  string // fully qualified
	URL     string // the API's base; default "https://desec.io/api/v1"
	Token   string // sent as "Authorization: Token …" only to URL
	Timeout time.Duration
	// MaxRetries bounds the 429s waited out per request (default 5).
	MaxRetries int
}

var _ HostAPI = (*DeSEC)(nil)

func (d *DeSEC) String() string { return "deSEC API " + d.base() }

func (d *DeSEC) base() string {
	if d.URL == "" {
		return "https://desec.io/api/v1"
	}
	return strings.TrimSuffix(d.URL, "/")
}

// desecRRset is an RRset in the API's JSON.
type desecRRset struct {
	Subname string   `json:"subname"`
	Type    string   `json:"type"`
	TTL     uint32   `json:"ttl,omitempty"`
	Records []string `json:"records"`
}

var nextLink = regexp.MustCompile(`<([^>]+)>;\s*rel="next"`)

// Read lists the zone's RRsets, page by page.
func (d *DeSEC) Read(ctx context.Context) (map[string][]mdns.RR, error) {
	out := map[string][]mdns.RR{}
	next := d.base() + "/domains/" + url.PathEscape(strings.TrimSuffix(d.Origin, ".")) + "/rrsets/?cursor="
	for pages := 0; next != ""; pages++ {
		if pages > 10000 {
			return nil, fmt.Errorf("zone %s: %s: more than 10,000 pages", d.Origin, d)
		}
		var sets []desecRRset
		link, err := d.do(ctx, http.MethodGet, next, nil, &sets)
		if err != nil {
			return nil, err
		}
		for _, set := range sets {
			t, ok := mdns.StringToType[set.Type]
			if !ok {
				continue
			}
			name := d.Origin
			if set.Subname != "" {
				name = set.Subname + "." + d.Origin
			}
			for _, r := range set.Records {
				rr, err := mdns.NewRR(fmt.Sprintf("%s %d IN %s %s", name, set.TTL, set.Type, r))
				if err != nil || rr == nil {
					return nil, fmt.Errorf("zone %s: %s: the %s record of %s does not parse: %v", d.Origin, d, set.Type, name, err)
				}
				k := key(name, t)
				out[k] = append(out[k], rr)
			}
		}
		next = ""
		if m := nextLink.FindStringSubmatch(link); m != nil {
			u, err := url.Parse(m[1])
			b, _ := url.Parse(d.base())
			if err != nil || u.Host != b.Host { // the token goes to the API only
				return nil, fmt.Errorf("zone %s: %s: a next page at another host (%q)", d.Origin, d, m[1])
			}
			next = u.String()
		}
	}
	return out, nil
}

// Write PATCHes the whole RRsets in one bulk request; an RRset without
// records is deleted.
func (d *DeSEC) Write(ctx context.Context, sets []RRset) error {
	var body []desecRRset
	for _, set := range sets {
		rrs, err := set.toRRs()
		if err != nil {
			return err
		}
		sub := strings.TrimSuffix(strings.TrimSuffix(strings.ToLower(mdns.Fqdn(set.Owner)), d.Origin), ".")
		one := desecRRset{Subname: sub, Type: mdns.TypeToString[set.Type], TTL: max(set.TTL, DeSECMinTTL), Records: []string{}}
		for _, rr := range rrs {
			one.Records = append(one.Records, rdata(rr))
		}
		body = append(body, one)
	}
	_, err := d.do(ctx, http.MethodPatch, d.base()+"/domains/"+url.PathEscape(strings.TrimSuffix(d.Origin, "."))+"/rrsets/", body, nil)
	return err
}

// do sends one request and returns the Link header.
func (d *DeSEC) do(ctx context.Context, method, u string, body, out any) (string, error) {
	retries := d.MaxRetries
	if retries == 0 {
		retries = 5
	}
	c := hostClient{zone: d.Origin, api: d.String(), header: "Authorization", key: "Token " + d.Token, secret: d.Token, timeout: d.Timeout, retries: retries}
	h, b, err := c.do(ctx, method, u, body)
	if err != nil {
		return "", err
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return "", fmt.Errorf("zone %s: %s: the answer is not the RRsets: %v", d.Origin, d, err)
		}
	}
	return h.Get("Link"), nil
}
