package state

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/trustform/trustform/internal/files"
	"github.com/trustform/trustform/internal/version"
	"github.com/trustform/trustform/providers"
)

// Version is the state file format version.
const Version = 1

// State is the content of state.json.
type State struct {
	Version int `json:"version"`
	// TrustformVersion is the trustform that last wrote the file.
	TrustformVersion string `json:"trustform_version,omitempty"`
	Lineage          string `json:"lineage"`
	// Serial counts writes; a saved plan records it to notice later applies.
	Serial    int64                `json:"serial"`
	Resources map[string]*Resource `json:"resources"`
	// Pending holds, per address, the phase of a step that started but did
	// not finish (trustform was killed, or the step failed): recorded
	// before the step's first write, so that the next plan runs it again
	// even when its files already look done (a vhost written but never
	// tested or reloaded). A reload that waits for a certificate's
	// deployment is owed here from the moment the deployment is done.
	Pending map[string]string `json:"pending,omitempty"`
	// Retiring holds, per certificate, what an approved -replace still has
	// to do for the certificates it replaced: revoke them (-revoke), and
	// remove every copy of their key from the host. Each entry says which
	// serial, so a revocation that failed (the CA was down) is retried by
	// the next apply.
	Retiring map[string][]providers.Retired `json:"retiring,omitempty"`
	// VariableKey keys the hashes by which saved plans record sensitive
	// values (hex, 32 random bytes, born with the first save): a plan file
	// in an artefact store does not carry a plain SHA-256 of a password,
	// which could be guessed offline.
	VariableKey string `json:"variable_key,omitempty"`
}

// Resource is what trustform last saw of one resource.
type Resource struct {
	Type  string          `json:"type"`
	Value providers.Value `json:"value"`
	// VisibleAt records, per TLSA record, when it was first seen published
	// on every authoritative server.
	VisibleAt map[string]time.Time `json:"visible_at,omitempty"`
	AppliedAt time.Time            `json:"applied_at"`
	// Block is the resource's block as last applied: when the block is
	// removed from the configuration, it says what to delete.
	Block string `json:"block,omitempty"`
	// Adopted is what an import took over as it was (a hand-written
	// vhost file's digest, a key reached through certbot's link), for the
	// plans that follow: see providers.Adopter.
	Adopted map[string]string `json:"adopted,omitempty"`
}

// Path is where the state of a configuration directory lives.
func Path(stateDir string) string { return filepath.Join(stateDir, "state.json") }

// Load reads the state file; a missing one is a new, empty state with a fresh lineage.
func Load(path string) (*State, error) {
	b, err := files.ReadOptional(path)
	if err != nil {
		return nil, err
	}
	if b == nil {
		// The lineage is born with the first save, so that a plan made
		// before any apply still matches the state that apply starts from.
		return &State{Version: Version, Resources: map[string]*Resource{}}, nil
	}
	// Strict: a file with keys this trustform does not know was written by
	// another program or a newer trustform, and saving it would drop them.
	return decode(b, "state file "+path)
}

// decode reads a state document strictly; where names it in errors.
func decode(b []byte, where string) (*State, error) {
	var s State
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = errors.New("it is truncated")
		}
		return nil, fmt.Errorf("%s is damaged: %w", where, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s is damaged: it holds more than one JSON object", where)
	}
	switch {
	case s.Version != Version:
		return nil, fmt.Errorf("%s has version %d; this trustform reads version %d", where, s.Version, Version)
	case version.Newer(s.TrustformVersion):
		return nil, fmt.Errorf("%s was written by trustform %s, newer than this one (%s); use that version or a later one", where, s.TrustformVersion, version.String())
	}
	if s.Resources == nil {
		s.Resources = map[string]*Resource{}
	}
	return &s, nil
}

// Save bumps the serial and writes the file atomically.
func (s *State) Save(path string) error {
	b, err := s.next()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return files.WriteAtomic(path, append(b, '\n'), 0o600)
}

// next is the document of the state's next serial, a lineage born with
// the first.
func (s *State) next() ([]byte, error) {
	if s.Lineage == "" {
		s.Lineage = newLineage()
	}
	if s.VariableKey == "" {
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		s.VariableKey = hex.EncodeToString(k)
	}
	s.Serial++
	s.TrustformVersion = version.String()
	return json.MarshalIndent(s, "", "  ")
}

// Get returns the resource at addr, or nil.
func (s *State) Get(addr string) *Resource { return s.Resources[addr] }

// Set records the value a resource has after an apply step.
func (s *State) Set(addr, typ string, v providers.Value, now time.Time) *Resource {
	r := s.Resources[addr]
	if r == nil {
		r = &Resource{Type: typ}
		s.Resources[addr] = r
	}
	r.Value = v.Clone()
	r.AppliedAt = now.UTC()
	return r
}

// SeeRecords notes which records of a TLSA RRset are visible now: new ones
// get now as their visible_at, records no longer published are forgotten.
func (r *Resource) SeeRecords(records []string, now time.Time) {
	seen := map[string]time.Time{}
	for _, rec := range records {
		if t, ok := r.VisibleAt[rec]; ok {
			seen[rec] = t
		} else {
			seen[rec] = now.UTC()
		}
	}
	r.VisibleAt = seen
}

func newLineage() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}
