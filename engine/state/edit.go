package state

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Select lists the addresses in s that pattern names, sorted: the address
// itself, or every instance of a for_each block (certificate.www names
// certificate.www["a"] and certificate.www["b"]), or, for a bare block
// type, every resource of that type.
func (s *State) Select(pattern string) []string {
	var out []string
	for _, a := range slices.Sorted(maps.Keys(s.Resources)) {
		if a == pattern || strings.HasPrefix(a, pattern+"[") || (!strings.Contains(pattern, ".") && strings.HasPrefix(a, pattern+".")) {
			out = append(out, a)
		}
	}
	return out
}

// Forget removes the resource at addr from s, as `state rm` does: nothing
// on the hosts changes, and trustform no longer knows it managed it.
func (s *State) Forget(addr string) error {
	if s.Get(addr) == nil {
		return fmt.Errorf("%s is not in the state", addr)
	}
	delete(s.Resources, addr)
	delete(s.Pending, addr) // an approved revocation (Retiring) is kept
	return nil
}

// Move renames the entry at from to to, as `state mv` does after a block
// was renamed: what trustform knows of it (and a step left pending, and
// the retirements it owes) follows. The type cannot change, and to must
// be free.
func (s *State) Move(from, to string) error {
	r := s.Get(from)
	switch {
	case r == nil:
		return fmt.Errorf("%s is not in the state", from)
	case s.Get(to) != nil:
		return fmt.Errorf("%s is in the state already: state rm it first, or choose another name", to)
	case !strings.HasPrefix(to, r.Type+"."):
		return fmt.Errorf("%s is a %s: it can only move to another %s address", from, r.Type, r.Type)
	}
	s.Resources[to] = r
	delete(s.Resources, from)
	if p, ok := s.Pending[from]; ok {
		s.Pending[to] = p
		delete(s.Pending, from)
	}
	if rt, ok := s.Retiring[from]; ok {
		s.Retiring[to] = rt
		delete(s.Retiring, from)
	}
	return nil
}

// Read reads a state document pushed by hand (`state push FILE` or `-`):
// unlike Load, nothing there is an error, not an empty state.
func Read(r io.Reader, name string) (*State, error) {
	b, err := io.ReadAll(io.LimitReader(r, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil, fmt.Errorf("%s is empty: no state to push", name)
	}
	return decode(b, name)
}

// Accept checks a state pushed over s (`state push`): it must be of the
// same lineage (or s be new) and not go back in serial, unless force. The
// store then writes the serial after the greater of the two, never one it
// had already.
func (s *State) Accept(in *State, force bool) error {
	switch {
	case force:
	case s.Lineage != "" && in.Lineage != s.Lineage:
		return fmt.Errorf("it has lineage %s, the stored state %s: it is another configuration's state (-force writes it anyway)", in.Lineage, s.Lineage)
	case in.Serial < s.Serial:
		return fmt.Errorf("it is at serial %d, the stored state at %d: pushing it would go back (-force writes it anyway)", in.Serial, s.Serial)
	}
	in.Serial = max(in.Serial, s.Serial)
	return nil
}
