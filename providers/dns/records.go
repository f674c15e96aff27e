package dns

import (
	"crypto/x509"
	"fmt"
	"slices"

	"github.com/trustform/trustform/providers"
)

// recordSet is what a TLSA RRset should hold for its certificate's plan.
type recordSet struct {
	target  string // the record for the key (or CA) being, or to be, served
	live    string // the record for what is served now, if anything
	unknown string // why target is not known yet
	// With publish_next, the record of the next key kept staged after the
	// change, or why it is not known yet.
	next, nextUnknown string
	// kept are records kept whatever is served: the CAs a certificate
	// with fallback_issuers may be issued under (KeyPlan.CAs).
	kept []string
}

// unknownWhy says why the RRset's final content is not known yet, if so.
func (s recordSet) unknownWhy() string {
	if s.unknown != "" {
		return s.unknown
	}
	return s.nextUnknown
}

// steady is the RRset once the change is complete: the served key's record,
// and the next key's with publish_next. Both must be known.
func (s recordSet) steady() []string {
	out := append([]string{s.target}, s.kept...)
	if s.next != "" {
		out = append(out, s.next)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// write is what a step writes into the RRset. Every step keeps the record
// of what is served now (RFC 7671 §8); a publish only adds to what is
// published, every other step sets the steady RRset.
func (s recordSet) write(phase string, published []string) ([]string, error) {
	if phase == PhasePrune && s.unknown != "" && s.live != "" && s.nextUnknown == "" {
		// The certificate is due again before the prune (its next issue
		// publishes its own record before it is served): the records of
		// what is no longer served go, what is served stays.
		want := append([]string{s.live}, s.kept...)
		if s.next != "" {
			want = append(want, s.next)
		}
		slices.Sort(want)
		return slices.Compact(want), nil
	}
	if s.unknown != "" || (phase != PhasePublish && s.nextUnknown != "") {
		return nil, fmt.Errorf("the records are still unknown (waiting for %s); run plan again", s.unknownWhy())
	}
	want := append([]string{s.target}, s.kept...)
	if s.next != "" {
		want = append(want, s.next)
	}
	if s.live != "" {
		want = append(want, s.live)
	}
	if phase == PhasePublish {
		want = append(want, published...)
	}
	slices.Sort(want)
	return slices.Compact(want), nil
}

// records derives the RRset from the certificate's plan: the end-entity key
// (usage 1, 3 with selector 1), or a certificate (see chainRecords).
func (t *TLSA) records() recordSet {
	kp := t.Certificate.KeyPlan()
	if t.CertBound() {
		return t.chainRecords(kp)
	}
	var out recordSet
	if len(kp.Live) > 0 {
		out.live = certRecord(t.Params, kp.Live[0])
	}
	if kp.Target == nil {
		out.unknown = t.CertAddr.String() + " generates its new key"
	} else {
		rec, err := KeyRecord(t.Params, kp.Target)
		if err != nil {
			out.unknown = err.Error()
		}
		out.target = rec
	}
	if t.PublishNext {
		out.nextUnknown = t.CertAddr.String() + " stages its next key"
		if kp.Next != nil {
			rec, err := KeyRecord(t.Params, kp.Next)
			out.next, out.nextUnknown = rec, ""
			if err != nil {
				out.nextUnknown = err.Error()
			}
		}
	}
	return out
}

// chainRecords derives an RRset that pins a certificate: the CA that issued
// the leaf, as the server sends it (usage 0, 2), or the leaf itself
// (selector 0). What a new certificate's record is, is known only once it
// is issued, into the staged chain.
func (t *TLSA) chainRecords(kp providers.KeyPlan) recordSet {
	var out recordSet
	if c := Pinned(t.Params[0], kp.Live); c != nil {
		out.live = certRecord(t.Params, c)
	}
	switch {
	case !kp.Issue:
		out.target = out.live
	case kp.StagedChain:
		if c := Pinned(t.Params[0], kp.Chain); c != nil {
			out.target = certRecord(t.Params, c)
		}
	}
	if out.target == "" {
		out.unknown = t.CertAddr.String() + " is issued"
	}
	if t.TrustAnchor() {
		for _, ca := range kp.CAs {
			if rec := certRecord(t.Params, ca); rec != "" {
				out.kept = append(out.kept, rec)
			}
		}
	}
	return out
}

// certRecord is the record of a certificate; the parameters were validated.
func certRecord(params [3]uint8, c *x509.Certificate) string {
	rec, err := Record(params, c)
	if err != nil {
		return ""
	}
	return rec
}
