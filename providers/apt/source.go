package apt

import (
	"context"
	"strings"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// Source is an APT source in deb822 format.
type Source struct {
	Host       host.Host      // where the file is
	Key        schema.Address // the apt_key it is signed by
	Address    string
	File       string // target path
	Path       string // where it is on this machine
	Types      []string
	URIs       []string
	Suites     []string
	Components []string
	SignedBy   string // the keyring's target path
}

// Render writes the deb822 stanza.
func (s *Source) Render() string {
	var b strings.Builder
	b.WriteString(providers.ManagedHeader(s.Address))
	field := func(name string, vals []string) {
		if len(vals) > 0 {
			b.WriteString(name + ": " + strings.Join(vals, " ") + "\n")
		}
	}
	field("Types", s.Types)
	field("URIs", s.URIs)
	field("Suites", s.Suites)
	field("Components", s.Components)
	field("Signed-By", []string{s.SignedBy})
	return b.String()
}

func (s *Source) value(content string) providers.Value {
	return providers.Value{
		"file":      providers.String(s.File),
		"signed_by": providers.String(signedBy(content)),
		"content":   providers.String(content),
	}
}

var _ providers.Resource = (*Source)(nil)

// Plan asks for the rendered file; it waits for the keyring it names
// (apt-key-before-source).
func (s *Source) Plan(observed providers.Value, _ providers.PlanOptions) (providers.Value, *providers.Change) {
	v := s.value(s.Render())
	ch := providers.Diff(v, observed, providers.Phase{Name: PhaseWrite, Description: "write the deb822 source with Signed-By"})
	if ch != nil {
		ch.After = []providers.Dep{{Addr: s.Key, Phase: PhaseWrite}}
	}
	return v, ch
}

// Observe reads the file.
func (s *Source) Observe(context.Context) (providers.Value, error) {
	b, err := s.Host.ReadFile(s.Path)
	if err != nil || b == nil {
		return nil, err
	}
	if !providers.Managed(b) {
		return providers.Value{"file": providers.String(s.File), "content": providers.String(providers.Unmanaged(b))}, nil
	}
	return s.value(string(b)), nil
}

// Apply writes the file.
func (s *Source) Apply(_ context.Context, phase string) error {
	if phase == providers.PhaseDelete {
		return s.Host.Remove(s.Path)
	}
	return s.Host.WriteFile(s.Path, []byte(s.Render()), 0o644)
}

// Delete removes the .sources file: apt-get stops using the repository.
func (s *Source) Delete(providers.Value) *providers.Change {
	return &providers.Change{Action: providers.Delete,
		Reasons: []string{"its block is gone: apt-get would keep fetching from " + strings.Join(s.URIs, ", ")},
		Phases:  []providers.Phase{{Name: providers.PhaseDelete, Description: "remove " + s.File}}}
}

var _ providers.Deleter = (*Source)(nil)

func signedBy(content string) string {
	for _, l := range strings.Split(content, "\n") {
		if v, ok := strings.CutPrefix(l, "Signed-By:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
