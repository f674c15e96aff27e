package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/certificate"
	"github.com/trustform/trustform/schema"
)

// observe reads every resource, at most parallelism at a time. Observation
// is read-only, so its order does not matter; slow remote systems (DNS
// servers, TLS handshakes) are what the parallelism is for.
func (w *world) observe(ctx context.Context, parallelism int) hcl.Diagnostics {
	if parallelism < 1 {
		parallelism = 1
	}
	sem := make(chan struct{}, parallelism)
	var wg sync.WaitGroup
	errs := make([]error, len(w.nodes))
	for i, n := range w.nodes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			n.observed, errs[i] = n.res.Observe(ctx)
		}()
	}
	wg.Wait()
	for _, n := range w.nodes {
		w.derive(n)
	}
	var diags hcl.Diagnostics
	for i, err := range errs {
		if err != nil {
			rng := schema.DeclRange(w.nodes[i].block)
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot observe " + w.nodes[i].addr.String(),
				Detail:   err.Error(),
				Subject:  &rng,
			})
		}
	}
	return diags
}

// derive adds observed facts that depend on another resource's observation
// (a certificate's issuer is known once its CA has been read).
func (w *world) derive(n *node) {
	if c, ok := n.res.(*certificate.Certificate); ok && n.observed != nil {
		n.observed["issuer"] = providers.String(c.IssuedBy())
	}
}

// observedDigest fingerprints everything observed, so a saved plan can tell
// whether the world moved since it was made.
func (w *world) observedDigest() string {
	addrs := make([]string, 0, len(w.nodes))
	vals := map[string]*node{}
	for _, n := range w.nodes {
		addrs = append(addrs, n.addr.String())
		vals[n.addr.String()] = n
	}
	sort.Strings(addrs)
	h := sha256.New()
	for _, a := range addrs {
		b, err := json.Marshal(vals[a].observed)
		if err != nil {
			panic(fmt.Sprintf("observed value of %s does not marshal: %v", a, err))
		}
		fmt.Fprintf(h, "%s\x00%s\x00", a, b)
	}
	return hex.EncodeToString(h.Sum(nil))
}
