package schema

import "github.com/hashicorp/hcl/v2"

// The language's own blocks: where files live (host), where state is kept
// (state), and what to forget (removed).

func (b *Host) Header() (*string, *hcl.Range)    { return &b.Name, &b.DeclRange }
func (b *State) Header() (*string, *hcl.Range)   { return &b.Type, &b.DeclRange }
func (b *Removed) Header() (*string, *hcl.Range) { return nil, &b.DeclRange }
func (b *Import) Header() (*string, *hcl.Range)  { return nil, &b.DeclRange }

var _ = []Block{(*Host)(nil), (*State)(nil), (*Removed)(nil)}

func (b *Host) Files() []File {
	if b.SSH == nil || b.SSH.IdentityFile == "" {
		return nil
	}
	return []File{{Attr: "identity_file", Path: b.SSH.IdentityFile, Secret: "the SSH identity of host." + b.Name, Credential: true}}
}
