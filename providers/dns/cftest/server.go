// Package cftest is an in-process server of Cloudflare's documented DNS API
// (https://developers.cloudflare.com/api/resources/dns/) for one zone, with
// the behaviour trustform must respect: a bearer token, zones found by
// name, records listed in pages, TLSA and CAA records taken in their
// structured form and answered with upper-case hex in their content, the
// batch endpoint applied all or nothing, 429 with Retry-After. Beside it,
// a DNS server on loopback answers what the API holds. Cloudflare itself
// cannot be reached from a test machine: trustform is tested against this,
// not against the live service.
package cftest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	mdns "github.com/miekg/dns"
)

// Server is Cloudflare for one zone.
type Server struct {
	Zone     string // "example.test"
	ZoneID   string
	Token    string
	URL      string // the API's base: http://127.0.0.1:port/client/v4
	DNS      string // 127.0.0.1:port
	PageSize int

	mu      sync.Mutex
	records []record
	next    int
	limit   int
	Calls   []string // "METHOD path", in order
}

type record struct {
	ID      string         `json:"id"`
	Type    string         `json:"type"`
	Name    string         `json:"name"`
	Content string         `json:"content"`
	TTL     uint32         `json:"ttl"`
	Data    map[string]any `json:"data,omitempty"`
}

// Start runs the API and the DNS server for zone.
func Start(t testing.TB, zone, token string) *Server {
	s := &Server{Zone: zone, ZoneID: "023e105f4ecef8ad9ca31a8372d0c353", Token: token, PageSize: 100}
	s.records = append(s.records, record{ID: s.id(), Type: "NS", Name: zone, Content: "ns1.cloudflare.example", TTL: 86400})
	api := httptest.NewServer(http.HandlerFunc(s.serveAPI))
	t.Cleanup(api.Close)
	s.URL = api.URL + "/client/v4"
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dnsSrv := &mdns.Server{PacketConn: pc, Handler: mdns.HandlerFunc(s.serveDNS)}
	go dnsSrv.ActivateAndServe()
	t.Cleanup(func() { dnsSrv.Shutdown() })
	s.DNS = pc.LocalAddr().String()
	return s
}

func (s *Server) id() string { s.next++; return fmt.Sprintf("%032x", s.next) }

// RateLimit makes the next n requests answer 429 with Retry-After: 1.
func (s *Server) RateLimit(n int) { s.mu.Lock(); s.limit = n; s.mu.Unlock() }

func reply(w http.ResponseWriter, status int, result any, info map[string]int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	out := map[string]any{"success": status/100 == 2, "errors": []any{}, "messages": []any{}, "result": result}
	if status/100 != 2 {
		out["errors"] = []any{map[string]any{"code": status, "message": result}}
		out["result"] = nil
	}
	if info != nil {
		out["result_info"] = info
	}
	json.NewEncoder(w).Encode(out)
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Calls = append(s.Calls, r.Method+" "+r.URL.Path)
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		reply(w, http.StatusForbidden, "Authentication error", nil)
		return
	}
	if s.limit > 0 {
		s.limit--
		w.Header().Set("Retry-After", "1")
		reply(w, http.StatusTooManyRequests, "Rate limited", nil)
		return
	}
	zonePath := "/client/v4/zones/" + s.ZoneID + "/dns_records"
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/client/v4/zones":
		var zones []map[string]string
		if r.URL.Query().Get("name") == s.Zone {
			zones = append(zones, map[string]string{"id": s.ZoneID, "name": s.Zone})
		}
		reply(w, http.StatusOK, zones, nil)
	case r.Method == http.MethodGet && r.URL.Path == zonePath:
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		per := min(s.PageSize, atoiOr(r.URL.Query().Get("per_page"), 100))
		from, to := min((page-1)*per, len(s.records)), min(page*per, len(s.records))
		pages := (len(s.records) + per - 1) / per
		reply(w, http.StatusOK, s.records[from:to], map[string]int{"page": page, "per_page": per, "total_pages": pages, "total_count": len(s.records)})
	case r.Method == http.MethodPost && r.URL.Path == zonePath+"/batch":
		s.batch(w, r)
	default:
		reply(w, http.StatusNotFound, "Route not found", nil)
	}
}

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

// batch deletes, then posts, all or nothing.
func (s *Server) batch(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Deletes []struct{ ID string } `json:"deletes"`
		Posts   []record              `json:"posts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		reply(w, http.StatusBadRequest, "bad JSON", nil)
		return
	}
	next := slices.Clone(s.records)
	for _, d := range in.Deletes {
		i := slices.IndexFunc(next, func(r record) bool { return r.ID == d.ID })
		if i < 0 {
			reply(w, http.StatusBadRequest, "Record does not exist: "+d.ID, nil)
			return
		}
		next = slices.Delete(next, i, i+1)
	}
	for _, p := range in.Posts {
		switch p.Type {
		case "TLSA":
			if p.Data == nil {
				reply(w, http.StatusBadRequest, "TLSA records take data", nil)
				return
			}
			p.Content = fmt.Sprintf("%v %v %v %s", p.Data["usage"], p.Data["selector"], p.Data["matching_type"], strings.ToUpper(fmt.Sprint(p.Data["certificate"])))
		case "CAA":
			p.Content = fmt.Sprintf("%v %v %q", p.Data["flags"], p.Data["tag"], p.Data["value"])
		}
		if p.TTL != 1 && p.TTL < 60 {
			reply(w, http.StatusBadRequest, "TTL must be between 60 and 86400 seconds, or 1 for Automatic", nil)
			return
		}
		if !strings.HasSuffix(p.Name, s.Zone) {
			reply(w, http.StatusBadRequest, "Record name outside the zone", nil)
			return
		}
		p.ID = s.id()
		next = append(next, p)
	}
	s.records = next
	reply(w, http.StatusOK, map[string]any{"deletes": in.Deletes, "posts": in.Posts}, nil)
}

// serveDNS answers from the API's records, as Cloudflare's name servers do.
func (s *Server) serveDNS(w mdns.ResponseWriter, q *mdns.Msg) {
	m := new(mdns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.records {
		if !strings.EqualFold(mdns.Fqdn(r.Name), q.Question[0].Name) || mdns.StringToType[r.Type] != q.Question[0].Qtype {
			continue
		}
		content := r.Content
		if r.Type == "TXT" && !strings.HasPrefix(content, `"`) {
			content = strconv.Quote(content)
		}
		if rr, err := mdns.NewRR(fmt.Sprintf("%s %d IN %s %s", mdns.Fqdn(r.Name), r.TTL, r.Type, content)); err == nil {
			m.Answer = append(m.Answer, rr)
		}
	}
	w.WriteMsg(m)
}

// Contents are the contents of the records of a type at name, as stored.
func (s *Server) Contents(name, typ string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.records {
		if r.Name == name && r.Type == typ {
			out = append(out, r.Content)
		}
	}
	slices.Sort(out)
	return out
}
