package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/trustform/trustform/internal/version"
	"github.com/trustform/trustform/schema"
)

// WriteJSON writes the plan as one JSON object (docs/plan-json.md).
func WriteJSON(w io.Writer, p *Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

var digest = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ReadJSON reads what WriteJSON wrote, and only that: a plan file travels
// through artefact stores, so an unknown key, a second object, a format of
// another major version or a plan from a newer trustform is refused, naming
// what is wrong. What the plan's steps say is checked later, against the
// plan the engine makes again (engine.Run.Approve).
func ReadJSON(r io.Reader) (*Plan, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var p Plan
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errors.New("the file is truncated")
		}
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("the file holds more than one JSON object")
	}
	major, _, _ := strings.Cut(p.FormatVersion, ".")
	switch {
	case p.FormatVersion == "":
		return nil, errors.New("it has no format_version")
	case major != strings.Split(FormatVersion, ".")[0]:
		return nil, fmt.Errorf("its format_version is %q; this trustform reads %s.x", p.FormatVersion, strings.Split(FormatVersion, ".")[0])
	case p.TrustformVersion == "":
		return nil, errors.New("it names no trustform_version")
	case version.Newer(p.TrustformVersion):
		return nil, fmt.Errorf("it was made by trustform %s, newer than this one (%s)", p.TrustformVersion, version.String())
	case p.Mode != "normal" && p.Mode != "refresh-only" && p.Mode != "destroy":
		return nil, fmt.Errorf("its mode is %q, not \"normal\", \"refresh-only\" or \"destroy\"", p.Mode)
	case !digest.MatchString(p.ConfigDigest) || !digest.MatchString(p.ObservedDigest):
		return nil, errors.New("its config_digest or observed_digest is not a SHA-256 digest")
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return &p, nil
}

// word is a phase's or a rule's name.
var word = regexp.MustCompile(`^[a-z][a-z0-9-]{0,63}$`)

// check refuses fields that show and apply PLANFILE print or compare but
// that a plan never holds: addresses that are not addresses, phases and
// rules that are not names, unknown actions, steps out of order or
// depending on steps that are not before them. A file edited to carry an
// escape sequence in an address (hiding "IRREVERSIBLE" on a terminal) or
// Markdown in a phase is refused before anything prints it.
func (p *Plan) check() error {
	action := func(a Action) bool {
		return a == Create || a == Update || a == Delete || a == Replace || a == NoOp
	}
	change := func(what string, c Change) error {
		a, err := schema.ParseAddress(c.Address)
		switch {
		case err != nil:
			return fmt.Errorf("%s: %v", what, err)
		case a.Type != c.Type || a.Base() != c.Name || a.Key() != c.Index:
			return fmt.Errorf("%s: type, name and index do not match its address %s", what, c.Address)
		case !action(c.Action):
			return fmt.Errorf("%s: unknown action %q", what, c.Action)
		}
		return nil
	}
	for i, c := range p.Changes {
		if err := change(fmt.Sprintf("change %d", i+1), c); err != nil {
			return err
		}
	}
	for i, c := range p.StateRepairs {
		if err := change(fmt.Sprintf("state repair %d", i+1), c); err != nil {
			return err
		}
	}
	for i, a := range p.Forgets {
		if _, err := schema.ParseAddress(a); err != nil {
			return fmt.Errorf("forget %d: %v", i+1, err)
		}
	}
	for i, c := range p.Imports {
		if err := change(fmt.Sprintf("import %d", i+1), c); err != nil {
			return err
		}
	}
	for i, s := range p.Steps {
		if _, err := schema.ParseAddress(s.Address); err != nil {
			return fmt.Errorf("step %d: %v", i+1, err)
		}
		switch {
		case s.Index != i+1:
			return fmt.Errorf("step %d has index %d", i+1, s.Index)
		case !action(s.Action):
			return fmt.Errorf("step %d: unknown action %q", i+1, s.Action)
		case !word.MatchString(s.Phase) || (s.Rule != "" && !word.MatchString(s.Rule)):
			return fmt.Errorf("step %d: its phase or rule is not a name", i+1)
		}
		for _, d := range s.DependsOn {
			if d < 1 || d >= s.Index {
				return fmt.Errorf("step %d depends on step %d, which is not before it", i+1, d)
			}
		}
	}
	for _, a := range append(append([]string{}, p.Replace...), p.Targets...) {
		if _, err := schema.ParseAddress(a); err != nil {
			return fmt.Errorf("replace or targets: %v", err)
		}
	}
	if p.Revoke != "" && !word.MatchString(strings.ToLower(p.Revoke)) {
		return errors.New("revoke is not a reason's name")
	}
	return nil
}
