package engine

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/acme"
	"github.com/trustform/trustform/providers/apt"
	"github.com/trustform/trustform/providers/certificate"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/providers/localca"
	"github.com/trustform/trustform/providers/probe"
	"github.com/trustform/trustform/providers/webserver"
	"github.com/trustform/trustform/schema"
)

// desire computes every desired value, in dependency order (a TLSA RRset
// follows its certificate's intent), and decides each change's action.
func (r *Run) desire() {
	for _, n := range r.w.nodes { // bind order puts issuers before certificates before TLSA
		n.change = nil
		switch res := n.res.(type) {
		case *localca.CA:
			n.desired = res.Desired(n.addr.String())
		case *acme.Account:
			n.desired = res.Desired()
		case *certificate.Certificate:
			in := res.Plan(n.addr.String(), slices.Contains(r.opts.Replace, n.addr))
			n.desired = in.Value
			ci := &changeInfo{intent: in, reasons: in.Reasons}
			switch {
			case n.observed == nil:
				ci.action = string(plan.Create)
			case in.NewKey:
				ci.action = string(plan.Replace)
			case in.Issue, in.StageNext:
				ci.action = string(plan.Update)
			}
			if ci.action != "" {
				n.change = ci
			}
			continue
		case *dns.TLSA:
			t := n.block.(*schema.TLSA)
			recs := r.tlsaRecords(t)
			if why := recs.unknownWhy(); why != "" {
				n.desired = res.Value(t.TTLSeconds, nil)
				n.desired["records"] = providers.Unknown(why)
			} else {
				n.desired = res.Value(t.TTLSeconds, recs.steady())
			}
			if _, _, ok := r.servedBy(t); ok {
				n.desired["served_match"] = providers.String("yes")
			}
		case *webserver.Vhost:
			n.desired = res.Desired()
			for k, a := range res.ServedDesired(r.servedLeaf(n.block.(*schema.Vhost))) {
				n.desired[k] = a
			}
		case *apt.Key:
			n.desired = res.Desired()
			if due, why := res.Due(); due && n.observed != nil {
				n.change = &changeInfo{action: string(plan.Update), reasons: []string{why + ": refresh it from its source"}}
				continue
			}
		case *apt.Source:
			n.desired = res.Desired()
		}
		if n.observed == nil {
			n.change = &changeInfo{action: string(plan.Create), reasons: []string{"it does not exist yet"}}
			continue
		}
		if d := providers.Differs(n.desired, n.observed); len(d) > 0 {
			n.change = &changeInfo{action: string(plan.Update), reasons: differReasons(d, n.desired, n.observed)}
		}
	}
}

// servedLeaf is the certificate a TLS vhost's server should present: the
// one in its certificate file, unknown while it is being issued.
func (r *Run) servedLeaf(v *schema.Vhost) *providers.Attr {
	cn := r.w.by[v.Certificate.Address]
	if cn == nil {
		return nil
	}
	if cn.change != nil && cn.change.intent.Issue {
		a := providers.Unknown(cn.addr.String() + " is deployed")
		return &a
	}
	if chain := cn.res.(*certificate.Certificate).Chain; len(chain) > 0 {
		a := providers.String(probe.Leaf(chain[0]))
		return &a
	}
	return nil
}

// differReasons says what differs; for what the server serves it quotes the
// observed answer, since that is what a user has to look into.
func differReasons(attrs []string, want, got providers.Value) []string {
	var plain, out []string
	for _, a := range attrs {
		if strings.HasPrefix(a, "served_") {
			g, ok := got[a]
			seen := "nothing"
			if ok {
				seen = strconv.Quote(g.String())
			}
			out = append(out, fmt.Sprintf("the server answers %s = %s, the configuration wants %s", a, seen, strconv.Quote(want[a].String())))
			continue
		}
		plain = append(plain, a)
	}
	if len(plain) > 0 {
		out = append([]string{strings.Join(plain, ", ") + " differ from the configuration"}, out...)
	}
	return out
}

// tlsaRecordSet is what a TLSA RRset should hold for its certificate.
type tlsaRecordSet struct {
	target  string // the record for the key being (or to be) served
	live    string // the record for the key served now, if any
	unknown string // why target is not known yet
	// With publish_next, the record of the next key kept staged after this
	// change, or why it is not known yet.
	next, nextUnknown string
}

// unknownWhy says why the RRset's final content is not known yet, if so.
func (s tlsaRecordSet) unknownWhy() string {
	if s.unknown != "" {
		return s.unknown
	}
	return s.nextUnknown
}

// steady is the RRset once the change is complete: the served key's record,
// and the next key's with publish_next. Both must be known.
func (s tlsaRecordSet) steady() []string {
	if s.next == "" {
		return []string{s.target}
	}
	return slices.Sorted(slices.Values([]string{s.target, s.next}))
}

// write is what a step writes into the RRset. Every step keeps the record
// of the key served now (RFC 7671 §8); a publish only adds to what is
// published, every other step sets the steady RRset.
func (s tlsaRecordSet) write(phase string, published []string) ([]string, error) {
	if s.unknown != "" || (phase != phasePublish && s.nextUnknown != "") {
		return nil, fmt.Errorf("the records are still unknown (waiting for %s); run plan again", s.unknownWhy())
	}
	want := []string{s.target}
	if s.next != "" {
		want = append(want, s.next)
	}
	if s.live != "" {
		want = append(want, s.live)
	}
	if phase == phasePublish {
		want = append(want, published...)
	}
	slices.Sort(want)
	return slices.Compact(want), nil
}

// tlsaRecords derives the records of t from its certificate: the end-entity
// key (usage 1, 3) or the issuing CA (usage 0, 2, see caRecords).
func (r *Run) tlsaRecords(t *schema.TLSA) tlsaRecordSet {
	cn := r.w.by[t.Certificate.Address]
	cert := cn.res.(*certificate.Certificate)
	in := certificate.Intent{}
	if cn.change != nil {
		in = cn.change.intent
	} else {
		in.Target, in.Next = leafKey(cert), cert.NextKey
	}
	var out tlsaRecordSet
	if len(cert.Chain) > 0 {
		out.live = certRecord(t.Params, cert.Chain[0])
	}
	if t.Params[0] == 0 || t.Params[0] == 2 {
		return r.caRecords(t, cert, in)
	}
	switch {
	case t.Params[1] == 0 && (in.Issue || len(cert.Chain) == 0):
		out.unknown = t.Certificate.Address.String() + " is issued"
	case t.Params[1] == 0:
		out.target = out.live
	case in.Target == nil:
		out.unknown = t.Certificate.Address.String() + " generates its new key"
	default:
		rec, err := dns.KeyRecord(t.Params, in.Target)
		if err != nil {
			out.unknown = err.Error()
		}
		out.target = rec
	}
	if t.PublishNext {
		out.nextUnknown = t.Certificate.Address.String() + " stages its next key"
		if in.Next != nil {
			rec, err := dns.KeyRecord(t.Params, in.Next)
			out.next, out.nextUnknown = rec, ""
			if err != nil {
				out.nextUnknown = err.Error()
			}
		}
	}
	return out
}

// caRecords derives a trust-anchor RRset (usage 0, 2): it pins the CA that
// issued the leaf, as the server sends it (dns.Pinned). Which CA issues a new
// certificate is known only once it is issued, into the staged chain.
func (r *Run) caRecords(t *schema.TLSA, cert *certificate.Certificate, in certificate.Intent) tlsaRecordSet {
	var out tlsaRecordSet
	if ca := dns.Pinned(t.Params[0], cert.Chain); ca != nil {
		out.live = certRecord(t.Params, ca)
	}
	switch {
	case !in.Issue:
		out.target = out.live
	case cert.StagedChainFor(in.Target):
		if ca := dns.Pinned(t.Params[0], cert.StagedChain); ca != nil {
			out.target = certRecord(t.Params, ca)
		}
	}
	if out.target == "" {
		out.unknown = t.Certificate.Address.String() + " is issued"
	}
	return out
}

func leafKey(c *certificate.Certificate) crypto.PublicKey {
	if len(c.Chain) == 0 {
		return nil
	}
	return c.Chain[0].PublicKey
}

// certRecord is the record of a certificate; the parameters were validated.
func certRecord(params [3]uint8, c *x509.Certificate) string {
	rec, err := dns.Record(params, c)
	if err != nil {
		return ""
	}
	return rec
}
