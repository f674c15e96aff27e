package apt

import (
	"context"
	"slices"
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

	conflicts []conflict // other files' entries for these repositories, as observed
}

// PhaseDisableConflicts turns off other files' entries for the source's
// repositories that apt-get cannot merge with it.
const PhaseDisableConflicts = "disable-conflicts"

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

var (
	_ providers.Resource   = (*Source)(nil)
	_ providers.Renewing   = (*Source)(nil)
	_ providers.KeyTruster = (*Source)(nil)
)

// TrustsKey is the apt_key the source is signed by.
func (s *Source) TrustsKey() schema.Address { return s.Key }

// Due names the other files' entries that break the source even though its
// own file is as applied.
func (s *Source) Due() []string {
	var out []string
	for _, c := range s.conflicts {
		out = append(out, s.reason(c))
	}
	return out
}

// Plan asks for the rendered file, which waits for the keyring it names
// (apt-key-before-source), and for no other entry of its repositories
// that apt-get cannot merge with it (each named file:line).
func (s *Source) Plan(observed providers.Value, _ providers.PlanOptions) (providers.Value, *providers.Change) {
	v := s.value(s.Render())
	write := providers.Phase{Name: PhaseWrite, Description: "write the deb822 source with Signed-By"}
	if providers.Adopts(observed) {
		write.Description = "adopt and replace " + s.File + " (backed up to " + s.File + host.BackupSuffix + ") with the deb822 source with Signed-By"
	}
	ch := providers.Diff(v, withoutConflicts(observed), write)
	if ch != nil {
		ch.After = []providers.Dep{{Addr: s.Key, Phase: PhaseWrite}}
		if providers.Adopts(observed) {
			ch.Reasons = append(ch.Reasons, providers.AdoptReason(s.File))
		}
	}
	if len(s.conflicts) == 0 {
		return v, ch
	}
	if ch == nil {
		ch = &providers.Change{Action: providers.Update}
	}
	var where []string
	for _, c := range s.conflicts {
		ch.Reasons = append(ch.Reasons, s.reason(c))
		where = append(where, c.where())
	}
	ch.Phases = append(ch.Phases, providers.Phase{Name: PhaseDisableConflicts,
		Description: "disable the entries apt-get cannot merge with this source: " + strings.Join(slices.Compact(where), ", ")})
	return v, ch
}

// withoutConflicts is what the file itself says.
func withoutConflicts(observed providers.Value) providers.Value {
	if observed == nil {
		return nil
	}
	v := observed.Clone()
	delete(v, "conflicts")
	return v
}

// Observe reads the file, and every other sources file apt-get reads with
// it for entries that conflict.
func (s *Source) Observe(context.Context) (providers.Value, error) {
	cs, err := s.findConflicts()
	if err != nil {
		return nil, err
	}
	s.conflicts = cs
	b, err := s.Host.ReadFile(s.Path)
	if err != nil || b == nil {
		return nil, err
	}
	var v providers.Value
	if !providers.Managed(b) {
		v = providers.Value{"file": providers.String(s.File), "content": providers.String(providers.Unmanaged(b))}
	} else {
		v = s.value(string(b))
	}
	if len(cs) > 0 { // the plan wants none: the diff shows them going
		var where []string
		for _, c := range cs {
			where = append(where, c.where())
		}
		v["conflicts"] = providers.List(slices.Compact(where)...)
	}
	return v, nil
}

// Apply writes the file, or disables the conflicting entries.
func (s *Source) Apply(_ context.Context, _ *providers.Change, phase string) error {
	switch phase {
	case providers.PhaseDelete:
		return s.Host.Remove(s.Path)
	case PhaseDisableConflicts:
		return s.disableConflicts()
	}
	if err := providers.KeepForeign(s.Host, s.Path); err != nil {
		return err
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
