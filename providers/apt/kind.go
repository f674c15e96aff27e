package apt

import (
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// The block types of this package.
const (
	KeyType    = "apt_key"
	SourceType = "apt_source"
)

// KeyKind is the apt_key kind: its keys are installed before the sources
// that trust them.
func KeyKind() providers.Kind {
	return providers.Kind{
		Kind: schema.Kind{Type: KeyType, Rank: 4, New: func() schema.Block { return &KeyBlock{} }},
		Bind: bindKey,
	}
}

// SourceKind is the apt_source kind.
func SourceKind() providers.Kind {
	return providers.Kind{
		Kind: schema.Kind{Type: SourceType, Rank: 5, New: func() schema.Block { return &SourceBlock{} }},
		Bind: bindSource,
	}
}

func bindKey(b providers.Binding, block schema.Block) (any, hcl.Diagnostics) {
	k, cfg := block.(*KeyBlock), b.Config()
	path := cfg.LocalPath(k.Host, k.Keyring)
	return &Key{
		Host:        b.Host(k.Host),
		Fingerprint: k.Fingerprint,
		URL:         k.URL,
		Keyserver:   k.Keyserver,
		Keyring:     cfg.Target(k.Keyring),
		KeyringFile: k.Keyring,
		Path:        path,
		ConfigDir:   cfg.Dir,
		EtcApt:      etcApt(path, cfg.LocalPath(k.Host, "/etc/apt")),
		RenewBefore: k.RenewBeforeDuration,
		Now:         b.Now,
	}, nil
}

func bindSource(b providers.Binding, block schema.Block) (any, hcl.Diagnostics) {
	s, cfg := block.(*SourceBlock), b.Config()
	key, _ := cfg.Block(s.SignedBy.Address).(*KeyBlock) // resolved: an apt_key
	return &Source{
		Host:       b.Host(s.Host),
		Key:        s.SignedBy.Address,
		Address:    SourceType + "." + s.Name,
		File:       cfg.Target(s.File),
		Path:       cfg.LocalPath(s.Host, s.File),
		Types:      s.Types,
		URIs:       s.URIs,
		Suites:     s.Suites,
		Components: s.Components,
		SignedBy:   cfg.Target(key.Keyring),
	}, nil
}

// etcApt is the APT configuration directory a keyring belongs to: the one
// around .../etc/apt/keyrings/, else the host's /etc/apt.
func etcApt(keyring, hostEtcApt string) string {
	if dir := filepath.Dir(keyring); filepath.Base(dir) == "keyrings" && strings.HasSuffix(filepath.Dir(dir), filepath.Join("etc", "apt")) {
		return filepath.Dir(dir)
	}
	return hostEtcApt
}
