package testkind

import (
	"context"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// Kind is the note kind, for a kinds list.
func Kind() providers.Kind {
	return providers.Kind{
		Kind: schema.Kind{Type: "note", Rank: 6, New: func() schema.Block { return &Block{} }},
		Bind: bind,
	}
}

func bind(b providers.Binding, block schema.Block) (any, hcl.Diagnostics) {
	n := block.(*Block)
	return &Note{Host: b.Host(n.Host), Path: b.Config().LocalPath(n.Host, n.Path), Text: n.Text}, nil
}

// Note is the file a note block manages.
type Note struct {
	Host host.Host
	Path string // as the host door finds it
	Text string
}

var (
	_ providers.Resource = (*Note)(nil)
	_ providers.Deleter  = (*Note)(nil)
)

func (n *Note) Observe(context.Context) (providers.Value, error) {
	b, err := n.Host.ReadFile(n.Path) // absent: (nil, nil)
	if err != nil || b == nil {
		return nil, err
	}
	return providers.Value{"text": providers.String(string(b))}, nil
}

func (n *Note) Plan(observed providers.Value, _ providers.PlanOptions) (providers.Value, *providers.Change) {
	desired := providers.Value{"text": providers.String(n.Text + "\n")}
	return desired, providers.Diff(desired, observed, providers.Phase{Name: providers.PhaseWrite, Description: "write " + n.Path})
}

func (n *Note) Delete(providers.Value) *providers.Change {
	return &providers.Change{Action: providers.Delete, Reasons: []string{"its block is gone"},
		Phases: []providers.Phase{{Name: providers.PhaseDelete, Description: "remove " + n.Path}}}
}

func (n *Note) Apply(_ context.Context, _ *providers.Change, phase string) error {
	if phase == providers.PhaseDelete {
		return n.Host.Remove(n.Path)
	}
	return n.Host.WriteFile(n.Path, []byte(n.Text+"\n"), 0o644)
}
