package dns

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// CloudflareMinTTL is the smallest TTL Cloudflare takes (but 1, its
// "automatic").
const CloudflareMinTTL = 60

// Cloudflare is Cloudflare's DNS API for one zone
// (https://developers.cloudflare.com/api/resources/dns/): the zone's
// records read page by page, each change set one batch request, which
// Cloudflare applies as one transaction. TLSA and CAA records are written
// in their structured form (data), and the upper-case hex Cloudflare
// answers is normalised, so nothing looks changed on every run. A 429 is
// waited out (Retry-After), within the run's context. By hand: no served
// Go module speaks this API with TLSA. Tested against an in-process
// server of its documented requests (cftest), not the live service.
type Cloudflare struct {
	Origin string // fully qualified
	URL    string // the API's base; default "https://api.cloudflare.com/client/v4"
	ZoneID string // found by the zone's name when empty
	Token  string // sent as "Authorization: Bearer …" only to URL
	// MaxRetries bounds the 429s waited out per request (default 5).
	MaxRetries int
	Timeout    time.Duration

	mu  sync.Mutex
	ids map[string][]string // by key: the record ids of the last Read
}

var _ HostAPI = (*Cloudflare)(nil)

func (c *Cloudflare) String() string { return "Cloudflare API " + c.base() }

func (c *Cloudflare) base() string {
	if c.URL == "" {
		return "https://api.cloudflare.com/client/v4"
	}
	return strings.TrimSuffix(c.URL, "/")
}

// cfRecord is a DNS record in the API's JSON.
type cfRecord struct {
	ID      string         `json:"id,omitempty"`
	Type    string         `json:"type"`
	Name    string         `json:"name"`
	Content string         `json:"content,omitempty"`
	TTL     uint32         `json:"ttl"`
	Data    map[string]any `json:"data,omitempty"`
}

// cfAnswer is the API's envelope.
type cfAnswer struct {
	Success bool            `json:"success"`
	Result  json.RawMessage `json:"result"`
	Info    struct {
		Page       int `json:"page"`
		TotalPages int `json:"total_pages"`
	} `json:"result_info"`
}

// zoneID is the zone's id, asked by name once.
func (c *Cloudflare) zoneID(ctx context.Context) (string, error) {
	c.mu.Lock()
	id := c.ZoneID
	c.mu.Unlock()
	if id != "" {
		return id, nil
	}
	var zones []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/zones?name="+url.QueryEscape(strings.TrimSuffix(c.Origin, ".")), nil, &zones); err != nil {
		return "", err
	}
	if len(zones) != 1 {
		return "", fmt.Errorf("zone %s: %s: the token sees %d zones of that name; set zone_id", c.Origin, c, len(zones))
	}
	c.mu.Lock()
	c.ZoneID = zones[0].ID
	c.mu.Unlock()
	return zones[0].ID, nil
}

// Read lists the zone's records, page by page.
func (c *Cloudflare) Read(ctx context.Context) (map[string][]mdns.RR, error) {
	zone, err := c.zoneID(ctx)
	if err != nil {
		return nil, err
	}
	out, ids := map[string][]mdns.RR{}, map[string][]string{}
	for page, pages := 1, 1; page <= pages; page++ {
		var recs []cfRecord
		info, err := c.do(ctx, http.MethodGet, fmt.Sprintf("/zones/%s/dns_records?per_page=1000&page=%d", url.PathEscape(zone), page), nil, &recs)
		if err != nil {
			return nil, err
		}
		pages = info.TotalPages
		for _, r := range recs {
			t, ok := mdns.StringToType[r.Type]
			if !ok {
				continue
			}
			content := r.Content
			if r.Type == "TXT" && !strings.HasPrefix(content, `"`) {
				content = strconv.Quote(content)
			}
			rr, err := mdns.NewRR(fmt.Sprintf("%s %d IN %s %s", mdns.Fqdn(r.Name), r.TTL, r.Type, content))
			if err != nil || rr == nil {
				return nil, fmt.Errorf("zone %s: %s: the %s record of %s does not parse: %v", c.Origin, c, r.Type, r.Name, err)
			}
			k := key(r.Name, t)
			out[k] = append(out[k], rr)
			ids[k] = append(ids[k], r.ID)
		}
	}
	c.mu.Lock()
	c.ids = ids
	c.mu.Unlock()
	return out, nil
}

// Write replaces the RRsets in one batch: the records of the last Read
// deleted, the wanted ones posted.
func (c *Cloudflare) Write(ctx context.Context, sets []RRset) error {
	zone, err := c.zoneID(ctx)
	if err != nil {
		return err
	}
	batch := struct {
		Deletes []map[string]string `json:"deletes"`
		Posts   []cfRecord          `json:"posts"`
	}{Deletes: []map[string]string{}, Posts: []cfRecord{}}
	c.mu.Lock()
	for _, set := range sets {
		for _, id := range c.ids[key(set.Owner, set.Type)] {
			batch.Deletes = append(batch.Deletes, map[string]string{"id": id})
		}
	}
	c.mu.Unlock()
	for _, set := range sets {
		rrs, err := set.toRRs()
		if err != nil {
			return err
		}
		for _, rr := range rrs {
			batch.Posts = append(batch.Posts, cfRecordOf(rr))
		}
	}
	_, err = c.do(ctx, http.MethodPost, "/zones/"+url.PathEscape(zone)+"/dns_records/batch", batch, nil)
	return err
}

// cfRecordOf is a record as Cloudflare takes it: TLSA and CAA in their
// structured form, TXT as its text.
func cfRecordOf(rr mdns.RR) cfRecord {
	h := rr.Header()
	r := cfRecord{Type: mdns.TypeToString[h.Rrtype], Name: strings.TrimSuffix(h.Name, "."), TTL: h.Ttl}
	switch v := rr.(type) {
	case *mdns.TLSA:
		r.Data = map[string]any{"usage": v.Usage, "selector": v.Selector, "matching_type": v.MatchingType, "certificate": strings.ToLower(v.Certificate)}
	case *mdns.CAA:
		r.Data = map[string]any{"flags": v.Flag, "tag": v.Tag, "value": v.Value}
	case *mdns.TXT:
		r.Content = strings.Join(v.Txt, "")
	default:
		r.Content = rdata(rr)
	}
	return r
}

// do sends one request (path under the base) and decodes the envelope's
// result into out.
func (c *Cloudflare) do(ctx context.Context, method, path string, body, out any) (cfAnswerInfo, error) {
	retries := c.MaxRetries
	if retries == 0 {
		retries = 5
	}
	hc := hostClient{zone: c.Origin, api: c.String(), header: "Authorization", key: "Bearer " + c.Token, secret: c.Token, timeout: c.Timeout, retries: retries}
	_, b, err := hc.do(ctx, method, c.base()+path, body)
	if err != nil {
		return cfAnswerInfo{}, err
	}
	var a cfAnswer
	if err := json.Unmarshal(b, &a); err != nil || !a.Success {
		return cfAnswerInfo{}, fmt.Errorf("zone %s: %s answered %s without success: %s", c.Origin, c, method, hc.scrub(apiMessage(b)))
	}
	if out != nil {
		if err := json.Unmarshal(a.Result, out); err != nil {
			return cfAnswerInfo{}, fmt.Errorf("zone %s: %s: the answer is not what was asked: %v", c.Origin, c, err)
		}
	}
	return cfAnswerInfo{TotalPages: max(a.Info.TotalPages, 1)}, nil
}

// cfAnswerInfo is what an answer says of its pages.
type cfAnswerInfo struct{ TotalPages int }
