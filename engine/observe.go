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

	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/schema"
)

// observe reads every resource, at most parallelism at a time. Observation
// is read-only; a resource is read after what it refers to (a certificate
// after its CA, whose certificate tells who issued it), in waves, and slow
// remote systems (DNS servers, TLS handshakes) are what the parallelism is for.
func observe(ctx context.Context, g *graph.Graph, parallelism int) hcl.Diagnostics {
	if parallelism < 1 {
		parallelism = 1
	}
	errs := make([]error, len(g.Nodes))
	last := 0
	for _, n := range g.Nodes {
		last = max(last, n.Wave)
	}
	for wave := 0; wave <= last; wave++ {
		sem := make(chan struct{}, parallelism)
		var wg sync.WaitGroup
		for i, n := range g.Nodes {
			if n.Wave != wave {
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				n.Observed, errs[i] = n.Res.Observe(ctx)
			}()
		}
		wg.Wait()
	}
	var diags hcl.Diagnostics
	for i, err := range errs {
		if err != nil {
			rng := schema.DeclRange(g.Nodes[i].Block)
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot observe " + g.Nodes[i].Addr.String(),
				Detail:   err.Error(),
				Subject:  &rng,
			})
		}
	}
	return diags
}

// observedDigest fingerprints everything observed, so a saved plan can tell
// whether the world moved since it was made.
func observedDigest(g *graph.Graph) string {
	addrs := make([]string, 0, len(g.Nodes))
	vals := map[string]*graph.Node{}
	for _, n := range g.Nodes {
		addrs = append(addrs, n.Addr.String())
		vals[n.Addr.String()] = n
	}
	sort.Strings(addrs)
	h := sha256.New()
	for _, a := range addrs {
		b, err := json.Marshal(vals[a].Observed)
		if err != nil {
			panic(fmt.Sprintf("observed value of %s does not marshal: %v", a, err))
		}
		fmt.Fprintf(h, "%s\x00%s\x00", a, b)
	}
	return hex.EncodeToString(h.Sum(nil))
}
