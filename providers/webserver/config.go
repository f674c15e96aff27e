package webserver

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/providers"
)

// Phases of a vhost change.
const (
	PhaseWrite     = providers.PhaseWrite     // write the config, test, reload
	PhaseReload    = "reload"                 // the config is unchanged but a certificate under it changed
	PhaseChallenge = providers.PhaseChallenge // serve the ACME challenge and the redirect first, HSTS not yet
)

// ServerConfig is one managed web server config file (one vhost). Changes are
// written, checked with the server's own config test and kept only if it
// passes; otherwise the previous file is restored byte for byte.
type ServerConfig struct {
	Host          host.Host // where the file is and the commands run
	Renderer      Renderer
	Site          Site
	TargetPath    string // config_file as the server sees it
	Path          string // where it is on this machine
	TestCommand   string // empty: skip
	ReloadCommand string // empty: skip
	// Installed says what the host runs (its package database), for the
	// versions the configuration does not state; nil: unknown.
	Installed func() Versions
	// foreign is the file as Observe found it when trustform did not
	// write it, for an adoption (Adoption, adopted).
	foreign []byte
}

// Desired renders the config.
func (s *ServerConfig) Desired() providers.Value { return s.value(s.Renderer.Render(s.Site)) }

// ChallengeOnly is the vhost as deployed before the certificate it helps to
// obtain exists: challenge and redirect, but no HSTS until the HTTPS side
// serves a valid certificate (hsts-on-http-vhost).
func (s *ServerConfig) ChallengeOnly() providers.Value {
	site := s.Site
	site.HSTS = ""
	return s.value(s.Renderer.Render(site))
}

func (s *ServerConfig) value(content string) providers.Value {
	v := s.Renderer.Summarize(content)
	v["config_file"] = providers.String(s.TargetPath)
	v["content"] = providers.String(content)
	return v
}

// Observe reads the file as it is, and the versions the server runs (for
// a TLS site with a Mozilla profile, whose lines depend on them) where the
// configuration does not state them. It runs no command.
func (s *ServerConfig) Observe(ctx context.Context) (providers.Value, error) {
	if s.Site.Mozilla != nil && s.Installed != nil && (s.Site.Versions.Server == "" || s.Site.Versions.OpenSSL == "") {
		v := s.Installed()
		s.Site.Versions.Server = cmp.Or(s.Site.Versions.Server, v.Server)
		s.Site.Versions.OpenSSL = cmp.Or(s.Site.Versions.OpenSSL, v.OpenSSL)
	}
	s.foreign = nil
	b, err := s.Host.ReadFile(s.Path)
	if err != nil || b == nil {
		return nil, err
	}
	if !providers.Managed(b) {
		s.foreign = b
		return providers.Value{"config_file": providers.String(s.TargetPath), "content": providers.String(providers.Unmanaged(b))}, nil
	}
	return s.value(string(b)), nil
}

// Adoption is the digest of a file trustform did not write: an import
// takes it over as it is.
func (s *ServerConfig) Adoption() map[string]string {
	if s.foreign == nil {
		return nil
	}
	return map[string]string{"config_file": digest(s.foreign)}
}

// adopted says whether the file is the one an import adopted, unchanged,
// and what of the site it does not say as the block does (nothing: the
// file stays as it is). A file that changed since, or that is not one
// site, is not adopted.
func (s *ServerConfig) adopted(adopted map[string]string) (bool, []string) {
	if s.foreign == nil || adopted["config_file"] != digest(s.foreign) {
		return false, nil
	}
	sites := s.Renderer.Read(string(s.foreign))
	if len(sites) != 1 {
		return false, nil
	}
	return true, s.Site.differs(sites[0])
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Apply writes, tests and reloads; phase PhaseReload only reloads.
func (s *ServerConfig) Apply(ctx context.Context, _ *providers.Change, phase string) error {
	v := s.Desired()
	switch phase {
	case PhaseReload:
		return s.run(ctx, "reload", s.ReloadCommand)
	case providers.PhaseDelete:
		return s.remove(ctx)
	case PhaseChallenge:
		v = s.ChallengeOnly()
	case PhaseWrite:
	default:
		return fmt.Errorf("vhost: unknown phase %q", phase)
	}
	snap, err := host.Take(s.Host, s.Path)
	if err != nil {
		return err
	}
	if err := providers.KeepForeign(s.Host, s.Path); err != nil {
		return err
	}
	if err := s.Host.WriteFile(s.Path, []byte(v["content"].Str), 0o644); err != nil {
		return err
	}
	if err := s.run(ctx, "config test", s.TestCommand); err != nil {
		if rerr := snap.Restore(); rerr != nil {
			return fmt.Errorf("%w; restoring %s failed too: %v", err, s.Path, rerr)
		}
		return fmt.Errorf("%w; %s restored to its previous content", err, s.Path)
	}
	return s.run(ctx, "reload", s.ReloadCommand)
}

// remove deletes the file, tests the configuration without it (putting it
// back if the test fails) and reloads.
func (s *ServerConfig) remove(ctx context.Context) error {
	snap, err := host.Take(s.Host, s.Path)
	if err != nil {
		return err
	}
	if err := s.Host.Remove(s.Path); err != nil {
		return err
	}
	if err := s.run(ctx, "config test", s.TestCommand); err != nil {
		if rerr := snap.Restore(); rerr != nil {
			return fmt.Errorf("%w; restoring %s failed too: %v", err, s.Path, rerr)
		}
		return fmt.Errorf("%w; %s put back", err, s.Path)
	}
	return s.run(ctx, "reload", s.ReloadCommand)
}

// run executes a configured shell command, quoting its output on failure.
func (s *ServerConfig) run(ctx context.Context, what, command string) error {
	if command == "" {
		return nil
	}
	out, err := s.Host.Run(ctx, command)
	if err != nil {
		msg := strings.TrimSpace(string(bytes.TrimSpace(out)))
		return fmt.Errorf("%s %q failed (%v): %s", what, command, err, msg)
	}
	return nil
}
