package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/trustform/trustform/internal/version"
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
	case p.Mode != "normal" && p.Mode != "refresh-only":
		return nil, fmt.Errorf("its mode is %q, not \"normal\" or \"refresh-only\"", p.Mode)
	case !digest.MatchString(p.ConfigDigest) || !digest.MatchString(p.ObservedDigest):
		return nil, errors.New("its config_digest or observed_digest is not a SHA-256 digest")
	}
	return &p, nil
}
