package graph

import (
	"fmt"
	"slices"
	"sort"

	"github.com/trustform/trustform/providers"
)

// Order sorts the steps by dependency level, then by kind (schema's rank),
// batch (a zone) and address, so that steps that can share a transaction
// stand next to each other, and numbers them. Steps that wait for each other
// in a circle are an error.
func (g *Graph) Order() ([]*Step, error) {
	const visiting = -1
	var level func(s *Step) (int, error)
	level = func(s *Step) (int, error) {
		if s.level == visiting {
			return 0, fmt.Errorf("steps of %s depend on each other in a circle", s.Addr)
		}
		if s.level > 0 {
			return s.level, nil
		}
		s.level = visiting
		lv := 1
		for d := range s.Deps {
			dl, err := level(d)
			if err != nil {
				return 0, err
			}
			lv = max(lv, dl+1)
		}
		s.level = lv
		return lv, nil
	}
	for _, s := range g.Steps {
		if _, err := level(s); err != nil {
			return nil, err
		}
	}
	out := slices.Clone(g.Steps)
	ranks := map[string]int{}
	for _, k := range g.Config.Kinds() {
		ranks[k.Type] = k.Rank
	}
	rank := func(s *Step) int { return ranks[s.Addr.Type] }
	batch := func(s *Step) string {
		if b, ok := g.by[s.Addr].Res.(providers.Batched); ok {
			return b.BatchKey()
		}
		return ""
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.level != b.level {
			return a.level < b.level
		}
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		if za, zb := batch(a), batch(b); za != zb {
			return za < zb
		}
		if a.Phase != b.Phase {
			return a.Phase < b.Phase
		}
		return a.Addr.Name < b.Addr.Name
	})
	for i, s := range out {
		s.Index = i + 1
	}
	return out, nil
}
