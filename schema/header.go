package schema

import "github.com/hashicorp/hcl/v2"

// header is what every top-level block has besides its body: its label
// (nil for a removed block) and where it is declared. Reading them through
// a method rather than by reflection keeps a fleet's configuration cheap to
// walk, and decoding sets them through the same pointers.
type header interface {
	header() (label *string, decl *hcl.Range)
}

func (b *Host) header() (*string, *hcl.Range)        { return &b.Name, &b.DeclRange }
func (b *DNSZone) header() (*string, *hcl.Range)     { return &b.Name, &b.DeclRange }
func (b *ACMEAccount) header() (*string, *hcl.Range) { return &b.Name, &b.DeclRange }
func (b *LocalCA) header() (*string, *hcl.Range)     { return &b.Name, &b.DeclRange }
func (b *Certificate) header() (*string, *hcl.Range) { return &b.Name, &b.DeclRange }
func (b *TLSA) header() (*string, *hcl.Range)        { return &b.Name, &b.DeclRange }
func (b *TLSPolicy) header() (*string, *hcl.Range)   { return &b.Name, &b.DeclRange }
func (b *Vhost) header() (*string, *hcl.Range)       { return &b.Name, &b.DeclRange }
func (b *Service) header() (*string, *hcl.Range)     { return &b.Name, &b.DeclRange }
func (b *APTKey) header() (*string, *hcl.Range)      { return &b.Name, &b.DeclRange }
func (b *APTSource) header() (*string, *hcl.Range)   { return &b.Name, &b.DeclRange }
func (b *State) header() (*string, *hcl.Range)       { return &b.Type, &b.DeclRange }
func (b *Removed) header() (*string, *hcl.Range)     { return nil, &b.DeclRange }

var _ = []header{(*Host)(nil), (*DNSZone)(nil), (*ACMEAccount)(nil), (*LocalCA)(nil), (*Certificate)(nil), (*TLSA)(nil), (*TLSPolicy)(nil), (*Vhost)(nil), (*Service)(nil), (*APTKey)(nil), (*APTSource)(nil), (*State)(nil), (*Removed)(nil)}
