package apt

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/schema"
)

// KeyBlock is an apt_key block: an APT repository signing key, pinned by
// its full fingerprint.
type KeyBlock struct {
	Name        string         `hcl:"name,label"`
	Fingerprint string         `hcl:"fingerprint"`
	URL         string         `hcl:"url,optional"`
	Keyserver   string         `hcl:"keyserver,optional"`
	Keyring     string         `hcl:"keyring,optional"`
	RenewBefore string         `hcl:"renew_before,optional"`
	HostExpr    hcl.Expression `hcl:"host,optional"`

	FingerprintRange hcl.Range `hcl:"fingerprint,attr_value_range"`
	KeyringRange     hcl.Range `hcl:"keyring,attr_value_range"`
	RenewBeforeRange hcl.Range `hcl:"renew_before,attr_value_range"`
	DeclRange        hcl.Range `hcl:",def_range"`

	Host                schema.Ref
	RenewBeforeDuration schema.Duration
}

// SourceBlock is an apt_source block: an APT source written as a deb822
// .sources file.
type SourceBlock struct {
	Name         string         `hcl:"name,label"`
	File         string         `hcl:"file,optional"`
	Types        []string       `hcl:"types,optional"`
	URIs         []string       `hcl:"uris"`
	Suites       []string       `hcl:"suites"`
	Components   []string       `hcl:"components,optional"`
	SignedByExpr hcl.Expression `hcl:"signed_by"`
	HostExpr     hcl.Expression `hcl:"host,optional"`

	FileRange       hcl.Range `hcl:"file,attr_value_range"`
	TypesRange      hcl.Range `hcl:"types,attr_value_range"`
	URIsRange       hcl.Range `hcl:"uris,attr_value_range"`
	SuitesRange     hcl.Range `hcl:"suites,attr_value_range"`
	ComponentsRange hcl.Range `hcl:"components,attr_value_range"`
	DeclRange       hcl.Range `hcl:",def_range"`

	SignedBy schema.Ref
	Host     schema.Ref
}

var (
	_ schema.Referrer  = (*KeyBlock)(nil)
	_ schema.Validator = (*KeyBlock)(nil)
	_ schema.FileNamer = (*KeyBlock)(nil)
	_ schema.Referrer  = (*SourceBlock)(nil)
	_ schema.Validator = (*SourceBlock)(nil)
	_ schema.FileNamer = (*SourceBlock)(nil)
)

func (k *KeyBlock) Header() (*string, *hcl.Range)    { return &k.Name, &k.DeclRange }
func (s *SourceBlock) Header() (*string, *hcl.Range) { return &s.Name, &s.DeclRange }

func (k *KeyBlock) References() []schema.Reference {
	return []schema.Reference{{Attr: "host", Expr: k.HostExpr, To: &k.Host, Types: []string{"host"}}}
}

func (s *SourceBlock) References() []schema.Reference {
	return []schema.Reference{
		{Attr: "signed_by", Expr: s.SignedByExpr, To: &s.SignedBy, Types: []string{KeyType}, Required: true},
		{Attr: "host", Expr: s.HostExpr, To: &s.Host, Types: []string{"host"}},
	}
}

func (k *KeyBlock) Files() []schema.File {
	return []schema.File{{Attr: "keyring", Range: k.KeyringRange, Host: k.Host, Path: k.Keyring, Managed: true}}
}

func (s *SourceBlock) Files() []schema.File {
	return []schema.File{{Attr: "file", Range: s.FileRange, Host: s.Host, Path: s.File, Managed: true}}
}

var (
	hexFingerprint = regexp.MustCompile(`^[0-9A-F]{40}$|^[0-9A-F]{64}$`) // v4 (SHA-1) or v6 (SHA-256, RFC 9580)
	shortKeyID     = regexp.MustCompile(`^[0-9A-F]{8}$|^[0-9A-F]{16}$`)
	uriScheme      = regexp.MustCompile(`^[a-z][a-z0-9+.-]*:`)
)

// NormalizeFingerprint upper-cases a fingerprint and drops the spaces gpg prints.
func NormalizeFingerprint(s string) string {
	return strings.ToUpper(strings.TrimPrefix(strings.ReplaceAll(s, " ", ""), "0x"))
}

// Validate checks an apt_key block and fills in its defaults: the
// keyring /etc/apt/keyrings/NAME.gpg, renewal 30 days before expiry.
func (k *KeyBlock) Validate(c *schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	fpr := NormalizeFingerprint(k.Fingerprint)
	switch {
	case hexFingerprint.MatchString(fpr):
		k.Fingerprint = fpr
	case shortKeyID.MatchString(fpr):
		diags = append(diags, schema.ErrAt(k.FingerprintRange, "Short key ID instead of a fingerprint",
			fmt.Sprintf("%q is a %d-digit key ID. Key IDs are easy to forge (colliding keys exist on public keyservers), so an APT key is pinned by its full fingerprint (40 hex digits, 64 for an OpenPGP v6 key), as `gpg --show-keys --with-fingerprint KEYFILE` prints it.", k.Fingerprint, len(fpr))))
	default:
		diags = append(diags, schema.ErrAt(k.FingerprintRange, "Invalid fingerprint",
			fmt.Sprintf("fingerprint must be the key's full fingerprint: 40 hex digits (64 for an OpenPGP v6 key); got %q.", k.Fingerprint)))
	}
	if (k.URL == "") == (k.Keyserver == "") {
		diags = append(diags, schema.ErrAt(k.DeclRange, "Missing key source", "Set exactly one of url (https:, file: or a path) and keyserver."))
	}
	if k.Keyring == "" {
		k.Keyring = "/etc/apt/keyrings/" + schema.FileName(k.Name) + ".gpg"
	}
	if d := c.CheckPath(k.KeyringRange, "keyring", k.Keyring); d != nil {
		diags = append(diags, d)
	} else if !strings.HasSuffix(k.Keyring, ".gpg") && !strings.HasSuffix(k.Keyring, ".asc") {
		diags = append(diags, schema.ErrAt(k.KeyringRange, "Invalid keyring name", "APT reads a keyring as binary when it ends in .gpg and armored when it ends in .asc; use one of them."))
	}
	k.RenewBeforeDuration = 30 * 24 * 3600e9
	if k.RenewBefore != "" {
		d, err := schema.ParseDuration(k.RenewBefore)
		if err != nil {
			diags = append(diags, schema.ErrAt(k.RenewBeforeRange, "Invalid duration", err.Error()))
		}
		k.RenewBeforeDuration = d
	}
	return diags
}

// Validate checks an apt_source block and fills in its defaults: the file
// /etc/apt/sources.list.d/NAME.sources, type deb. Each value is one word
// of a deb822 field; a newline would start a field of its own ("Trusted:
// yes" switches signature checks off).
func (s *SourceBlock) Validate(c *schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if len(s.URIs) == 0 || len(s.Suites) == 0 {
		diags = append(diags, schema.ErrAt(s.DeclRange, "Incomplete APT source", "apt_source needs at least one entry in uris and in suites."))
	}
	for _, t := range s.Types {
		if t != "deb" && t != "deb-src" {
			diags = append(diags, schema.ErrAt(s.TypesRange, "Invalid APT source type", fmt.Sprintf("types holds \"deb\" or \"deb-src\"; got %q.", t)))
		}
	}
	diags = append(diags, schema.CheckURIs(s.URIsRange, "uris", s.URIs)...)
	for _, u := range s.URIs {
		if !uriScheme.MatchString(u) {
			diags = append(diags, schema.ErrAt(s.URIsRange, "APT URI without a scheme", fmt.Sprintf("%q: APT needs the method, as in \"https://deb.example.org/debian\".", u)))
		}
	}
	diags = append(diags, schema.CheckDebWords(s.SuitesRange, "suites", s.Suites)...)
	diags = append(diags, schema.CheckDebWords(s.ComponentsRange, "components", s.Components)...)
	diags = schema.Append(diags, c.CheckPath(s.FileRange, "file", s.File))
	if s.File == "" {
		s.File = "/etc/apt/sources.list.d/" + schema.FileName(s.Name) + ".sources"
	}
	if len(s.Types) == 0 {
		s.Types = []string{"deb"}
	}
	return diags
}
