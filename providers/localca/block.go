package localca

import (
	"fmt"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// Type is the block type of a local CA.
const Type = "local_ca"

// Block is a local_ca block: the embedded default issuer, a CA whose key
// lives in the state directory, or in KeyFile and CertFile on the machine
// running trustform, for runners that share it through their secret store.
type Block struct {
	Name       string `hcl:"name,label"`
	CommonName string `hcl:"common_name,optional"`
	KeyFile    string `hcl:"key_file,optional"`
	CertFile   string `hcl:"cert_file,optional"`
	// CRLFile is where the CA's CRL is written, re-signed on every
	// revocation (-revoke); default crl.pem beside the CA in .trustform/.
	CRLFile string `hcl:"crl_file,optional"`

	KeyFileRange  hcl.Range `hcl:"key_file,attr_value_range"`
	CertFileRange hcl.Range `hcl:"cert_file,attr_value_range"`
	CRLFileRange  hcl.Range `hcl:"crl_file,attr_value_range"`
	DeclRange     hcl.Range `hcl:",def_range"`
}

var (
	_ schema.Validator = (*Block)(nil)
	_ schema.FileNamer = (*Block)(nil)
)

// Kind is the local_ca kind.
func Kind() providers.Kind {
	return providers.Kind{Kind: schema.Kind{Type: Type, New: func() schema.Block { return &Block{} }}, Bind: bind}
}

func (b *Block) Header() (*string, *hcl.Range) { return &b.Name, &b.DeclRange }

func (b *Block) Files() []schema.File {
	return []schema.File{{Attr: "key_file", Path: b.KeyFile, Secret: "the key of local_ca." + b.Name}}
}

// Validate: a CA key kept outside the state directory needs its
// certificate beside it, or a runner that has the key still lacks the CA.
func (b *Block) Validate(c *schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	diags = schema.Append(diags, c.CheckPath(b.KeyFileRange, "key_file", b.KeyFile))
	diags = schema.Append(diags, c.CheckPath(b.CertFileRange, "cert_file", b.CertFile))
	diags = schema.Append(diags, c.CheckPath(b.CRLFileRange, "crl_file", b.CRLFile))
	if (b.KeyFile == "") != (b.CertFile == "") {
		diags = append(diags, schema.ErrAt(b.DeclRange, "CA key and certificate kept apart",
			fmt.Sprintf("local_ca.%s sets only one of key_file and cert_file. Set both (every runner needs the CA certificate, which is public and can be committed, and its key, which is secret and comes from your secret store), or neither, to keep both in the state directory.", b.Name)))
	}
	return diags
}

func bind(b providers.Binding, block schema.Block) (any, hcl.Diagnostics) {
	c, cfg := block.(*Block), b.Config()
	cn := c.CommonName
	if cn == "" {
		cn = "trustform local CA (" + c.Name + ")"
	}
	return &CA{Addr: Type + "." + c.Name, Dir: filepath.Join(cfg.StateDir(), "local_ca", c.Name),
		KeyFile: cfg.LocalPath(schema.Ref{}, c.KeyFile), CertFile: cfg.LocalPath(schema.Ref{}, c.CertFile),
		CRLFile: cfg.LocalPath(schema.Ref{}, c.CRLFile), CommonName: cn, Now: b.Now}, nil
}
