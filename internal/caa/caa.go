// Package caa evaluates CAA records as a CA does before it issues (RFC 8659
// §3 and §4, with RFC 8657's account and method binding): which RRset is
// relevant for a name, and whether it lets one ACME account of one CA
// issue by one challenge. It holds no DNS client: the caller looks the
// records up.
package caa

import (
	"context"
	"fmt"
	"slices"
	"strings"

	mdns "github.com/miekg/dns"
)

// Lookup returns the CAA RRset at name as a resolver would, aliases
// followed; none is an empty answer, not an error.
type Lookup func(ctx context.Context, name string) ([]*mdns.CAA, error)

// Relevant finds the relevant RRset of name (RFC 8659 §3): the CAA RRset
// of name, or else of its closest ancestor that has one, below the root.
// A wildcard name ("*.example.com") is looked up from its base. Owner is
// "" when no name up the tree has CAA records: any CA may issue.
func Relevant(ctx context.Context, lookup Lookup, name string) (owner string, rrs []*mdns.CAA, err error) {
	x := strings.ToLower(mdns.Fqdn(strings.TrimPrefix(name, "*.")))
	for x != "." && x != "" {
		rrs, err := lookup(ctx, x)
		if err != nil {
			return x, nil, err
		}
		if len(rrs) > 0 {
			return x, rrs, nil
		}
		i, _ := mdns.NextLabel(x, 0)
		x = x[i:]
	}
	return "", nil, nil
}

// Issuer is who asks to issue: the CA's identities (its directory's
// caaIdentities, e.g. "letsencrypt.org"), the ACME account's URI and the
// challenge its order uses ("http-01", "dns-01").
type Issuer struct {
	Identities []string
	AccountURI string
	Method     string
}

// known are the property tags a CA understands (RFC 8659, RFC 9495's
// issuemail, the CA/Browser Forum's contact tags): an unknown one marked
// critical forbids issuance.
var known = []string{"issue", "issuewild", "iodef", "issuemail", "contactemail", "contactphone"}

// Permits reports whether the relevant RRset rrs lets iss issue a
// certificate for a name (wildcard: "*.…"), and if not, why: the record
// that forbids it, or what none of them allows.
func Permits(rrs []*mdns.CAA, wildcard bool, iss Issuer) (bool, string) {
	for _, r := range rrs {
		if r.Flag&128 != 0 && !slices.Contains(known, strings.ToLower(r.Tag)) {
			return false, fmt.Sprintf("the record %s carries the critical flag with a tag no CA understands, which forbids every issuance", present(r))
		}
	}
	tag := "issue"
	if wildcard && slices.ContainsFunc(rrs, func(r *mdns.CAA) bool { return strings.EqualFold(r.Tag, "issuewild") }) {
		tag = "issuewild"
	}
	var props []*mdns.CAA
	for _, r := range rrs {
		if strings.EqualFold(r.Tag, tag) {
			props = append(props, r)
		}
	}
	if len(props) == 0 {
		return true, ""
	}
	var why []string
	for _, r := range props {
		ok, reason := permits(r.Value, iss)
		if ok {
			return true, ""
		}
		why = append(why, present(r)+" "+reason)
	}
	return false, strings.Join(why, "; ")
}

// permits evaluates one issue or issuewild value: "ca.example;
// accounturi=…; validationmethods=dns-01" (RFC 8659 §4.2, RFC 8657 §3 and
// §4; unknown parameters are ignored).
func permits(value string, iss Issuer) (bool, string) {
	parts := strings.Split(value, ";")
	domain := strings.TrimSpace(parts[0])
	if domain == "" {
		return false, "names no CA: no certificate may be issued"
	}
	if !slices.ContainsFunc(iss.Identities, func(id string) bool { return strings.EqualFold(id, domain) }) {
		return false, fmt.Sprintf("names %s, not this CA (%s)", domain, strings.Join(iss.Identities, ", "))
	}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.TrimSpace(k) {
		case "accounturi":
			if strings.TrimSpace(v) != iss.AccountURI {
				return false, fmt.Sprintf("binds another account (%s), not %s", strings.TrimSpace(v), orUnknown(iss.AccountURI))
			}
		case "validationmethods":
			methods := strings.Split(strings.TrimSpace(v), ",")
			if !slices.Contains(methods, iss.Method) {
				return false, fmt.Sprintf("allows only %s, not %s", strings.TrimSpace(v), iss.Method)
			}
		}
	}
	return true, ""
}

// Record is the issue record (RFC 8657) that lets iss issue, with the CA's
// identity id: the account bound where its URI is known, the challenge
// named.
func Record(iss Issuer, id string) string {
	v := id
	if iss.AccountURI != "" {
		v += "; accounturi=" + iss.AccountURI
	}
	if iss.Method != "" {
		v += "; validationmethods=" + iss.Method
	}
	return fmt.Sprintf("0 issue %q", v)
}

func orUnknown(s string) string {
	if s == "" {
		return "this account (not registered yet)"
	}
	return s
}

// present is a CAA record's rdata as a zone file writes it.
func present(r *mdns.CAA) string {
	return fmt.Sprintf("%d %s %q", r.Flag, r.Tag, r.Value)
}
