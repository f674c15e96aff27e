// Package desectest is an in-process server of deSEC's documented API
// (https://desec.readthedocs.io/en/latest/dns/rrsets.html) for one domain,
// with the quirks trustform must respect: token authentication, a minimum
// TTL of 3600, cursor pagination with Link headers, bulk PATCH of whole
// RRsets applied all or nothing, 429 with Retry-After. Beside it, a DNS
// server on loopback answers what the API holds, as deSEC's name servers
// would. deSEC itself cannot be reached from a test machine: trustform is
// tested against this, not against the live service.
package desectest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	mdns "github.com/miekg/dns"
)

// Server is deSEC for one domain.
type Server struct {
	Domain string // "example.test"
	Token  string
	URL    string // the API's base: http://127.0.0.1:port/api/v1
	DNS    string // 127.0.0.1:port
	// PageSize is how many RRsets a page of the cursor listing holds.
	PageSize int

	mu    sync.Mutex
	sets  map[string]rrset // "subname type"
	limit int              // the next requests answered 429
	Calls []string         // "METHOD path", in order
}

type rrset struct {
	Subname string   `json:"subname"`
	Type    string   `json:"type"`
	TTL     uint32   `json:"ttl"`
	Records []string `json:"records"`
}

// Start runs the API and the DNS server for domain.
func Start(t testing.TB, domain, token string) *Server {
	s := &Server{Domain: domain, Token: token, PageSize: 500, sets: map[string]rrset{
		" NS": {Type: "NS", TTL: 3600, Records: []string{"ns1.desec.io."}},
	}}
	api := httptest.NewServer(http.HandlerFunc(s.serveAPI))
	t.Cleanup(api.Close)
	s.URL = api.URL + "/api/v1"
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

// RateLimit makes the next n requests answer 429 with Retry-After: 1.
func (s *Server) RateLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = n
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Calls = append(s.Calls, r.Method+" "+r.URL.Path)
	if r.Header.Get("Authorization") != "Token "+s.Token {
		http.Error(w, `{"detail":"Invalid token."}`, http.StatusUnauthorized)
		return
	}
	if s.limit > 0 {
		s.limit--
		w.Header().Set("Retry-After", "1")
		http.Error(w, `{"detail":"Request was throttled. Expected available in 1 second."}`, http.StatusTooManyRequests)
		return
	}
	if r.URL.Path != "/api/v1/domains/"+s.Domain+"/rrsets/" {
		http.Error(w, `{"detail":"Not found."}`, http.StatusNotFound)
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.list(w, r)
	case http.MethodPatch:
		s.patch(w, r)
	default:
		http.Error(w, `{"detail":"Method not allowed."}`, http.StatusMethodNotAllowed)
	}
}

// list answers the RRsets, a page at a time when a cursor is asked for; a
// listing of more than a page without one is refused, as deSEC does.
func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	keys := make([]string, 0, len(s.sets))
	for k := range s.sets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	cursor, paged := r.URL.Query()["cursor"]
	if !paged && len(keys) > s.PageSize {
		http.Error(w, `{"detail":"Pagination required. You can query up to 500 items at a time."}`, http.StatusBadRequest)
		return
	}
	from := 0
	if paged && cursor[0] != "" {
		fmt.Sscanf(cursor[0], "%d", &from)
	}
	to := min(from+s.PageSize, len(keys))
	if !paged {
		to = len(keys)
	}
	if paged && to < len(keys) {
		w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?cursor=%d>; rel="next"`, r.Host, r.URL.Path, to))
	}
	out := []rrset{}
	for _, k := range keys[from:to] {
		out = append(out, s.sets[k])
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// patch applies whole RRsets, all or none: an empty records list deletes.
func (s *Server) patch(w http.ResponseWriter, r *http.Request) {
	var in []rrset
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, `{"detail":"JSON parse error"}`, http.StatusBadRequest)
		return
	}
	for _, set := range in {
		if len(set.Records) > 0 && set.TTL < 3600 {
			http.Error(w, `[{"ttl":["Ensure this value is greater than or equal to 3600."]}]`, http.StatusBadRequest)
			return
		}
		for _, rec := range set.Records {
			if _, err := mdns.NewRR(fmt.Sprintf("%s 3600 IN %s %s", s.name(set.Subname), set.Type, rec)); err != nil {
				http.Error(w, fmt.Sprintf(`[{"records":["Record content malformed: %s"]}]`, strings.ReplaceAll(err.Error(), `"`, `'`)), http.StatusBadRequest)
				return
			}
		}
	}
	for _, set := range in {
		k := set.Subname + " " + set.Type
		if len(set.Records) == 0 {
			delete(s.sets, k)
			continue
		}
		s.sets[k] = set
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(in)
}

func (s *Server) name(subname string) string {
	if subname == "" {
		return s.Domain + "."
	}
	return subname + "." + s.Domain + "."
}

// serveDNS answers from the API's RRsets, as deSEC's name servers do.
func (s *Server) serveDNS(w mdns.ResponseWriter, q *mdns.Msg) {
	m := new(mdns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, set := range s.sets {
		name := s.name(set.Subname)
		if !strings.EqualFold(name, q.Question[0].Name) || mdns.StringToType[set.Type] != q.Question[0].Qtype {
			continue
		}
		for _, rec := range set.Records {
			if rr, err := mdns.NewRR(fmt.Sprintf("%s %d IN %s %s", name, set.TTL, set.Type, rec)); err == nil {
				m.Answer = append(m.Answer, rr)
			}
		}
	}
	w.WriteMsg(m)
}

// Records is the API's RRset at subname and type, as stored.
func (s *Server) Records(subname, typ string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sets[subname+" "+typ].Records)
}
