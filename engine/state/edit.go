package state

import "fmt"

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
