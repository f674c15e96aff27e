package engine

import (
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// checkRevoke refuses a -revoke reason trustform does not know, and
// -revoke without a -replace that gives it something to revoke.
func checkRevoke(reason string, replace []schema.Address) hcl.Diagnostics {
	switch _, ok := providers.RevocationReasons()[reason]; {
	case reason == "":
		return nil
	case !ok:
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid -revoke",
			Detail: reason + " is not a revocation reason trustform asks for; use one of " + strings.Join(providers.ReasonNames(), ", ") + " (RFC 5280, as certbot spells them)."}}
	case len(replace) == 0:
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid -revoke",
			Detail: "-revoke revokes the certificates that -replace re-keys, once their successors are served; add -replace=certificate.NAME (or a pattern such as certificate.*)."}}
	}
	return nil
}

// owed are the revocations an approved -revoke still owes for the
// certificate at addr: the plans, metrics, notifications and the status
// page all report the same.
func (r *Run) owed(addr string) []providers.Retired {
	var out []providers.Retired
	for _, rt := range r.st.Retiring[addr] {
		if rt.Reason != "" && !rt.Revoked {
			out = append(out, rt)
		}
	}
	return out
}

// retire writes into state what each resource still has to retire (a
// revocation, an old key to remove). At the start of an apply this is the
// approval: a -revoke recorded now is carried out by this apply or, if it
// stops first, by the next ones, without asking again.
func (r *Run) retire(n *graph.Node) {
	rt, ok := n.Res.(providers.Retirer)
	if !ok || r.cfg.Gone(n.Addr) {
		return
	}
	addr := n.Addr.String()
	if rs := rt.Retiring(); len(rs) > 0 {
		if r.st.Retiring == nil {
			r.st.Retiring = map[string][]providers.Retired{}
		}
		r.st.Retiring[addr] = slices.Clone(rs)
	} else {
		delete(r.st.Retiring, addr)
	}
}
