package apt

import (
	"context"
	"strings"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/providers"
)

// Source is an APT source in deb822 format.
type Source struct {
	Host       host.Host // where the file is
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

// Desired is the rendered file.
func (s *Source) Desired() providers.Value { return s.value(s.Render()) }

// Observe reads the file.
func (s *Source) Observe(context.Context) (providers.Value, error) {
	b, err := s.Host.ReadFile(s.Path)
	if err != nil || b == nil {
		return nil, err
	}
	return s.value(string(b)), nil
}

// Apply writes the file.
func (s *Source) Apply(context.Context, string) error {
	return s.Host.WriteFile(s.Path, []byte(s.Render()), 0o644)
}

func signedBy(content string) string {
	for _, l := range strings.Split(content, "\n") {
		if v, ok := strings.CutPrefix(l, "Signed-By:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
