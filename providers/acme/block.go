package acme

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// Type is the block type of an ACME account.
const Type = "acme_account"

// Block is an acme_account block: an account with an ACME certificate
// authority.
type Block struct {
	Name      string   `hcl:"name,label"`
	Directory string   `hcl:"directory"`
	Email     string   `hcl:"email,optional"`
	CARoots   []string `hcl:"ca_roots,optional"`
	// KeyFile is where the account key lives on the machine running
	// trustform, for runners that share it through their secret store
	// (default: in the state directory).
	KeyFile string `hcl:"key_file,optional"`
	// TermsOfServiceAgreed is the user's agreement to the CA's terms,
	// required to register where the directory publishes terms.
	TermsOfServiceAgreed bool `hcl:"terms_of_service_agreed,optional"`
	// EAB binds the account to one at the CA (RFC 8555 §7.3.4), as
	// commercial CAs require.
	EAB *EABBlock `hcl:"eab,block"`
	// CAAIdentity (caa_identity) is the domain the CA recognises as its own
	// in CAA records; default the directory's meta.caaIdentities.
	CAAIdentity string `hcl:"caa_identity,optional"`

	KeyFileRange     hcl.Range `hcl:"key_file,attr_value_range"`
	CAAIdentityRange hcl.Range `hcl:"caa_identity,attr_value_range"`
	TermsRange       hcl.Range `hcl:"terms_of_service_agreed,attr_value_range"`
	DeclRange        hcl.Range `hcl:",def_range"`
}

// EABBlock is an external account binding: the key id the CA gave and
// its HMAC key, read from HMACKeyFile or, without one, from the
// environment variable EABEnv(account name). The key is never in state or
// output.
type EABBlock struct {
	KeyID       string `hcl:"key_id"`
	HMACKeyFile string `hcl:"hmac_key_file,optional"`

	KeyIDRange       hcl.Range `hcl:"key_id,attr_value_range"`
	HMACKeyFileRange hcl.Range `hcl:"hmac_key_file,attr_value_range"`
	DeclRange        hcl.Range `hcl:",def_range"`
}

var (
	_ schema.Validator = (*Block)(nil)
	_ schema.FileNamer = (*Block)(nil)
)

// Kind is the acme_account kind.
func Kind() providers.Kind {
	return providers.Kind{Kind: schema.Kind{Type: Type, New: func() schema.Block { return &Block{} }}, Bind: bind}
}

func (a *Block) Header() (*string, *hcl.Range) { return &a.Name, &a.DeclRange }

func (a *Block) Files() []schema.File {
	var out []schema.File
	if a.EAB != nil {
		out = append(out, schema.File{Attr: "hmac_key_file", Path: a.EAB.HMACKeyFile, Secret: "the EAB HMAC key of acme_account." + a.Name, Credential: true})
	}
	return append(out, schema.File{Attr: "key_file", Path: a.KeyFile, Secret: "the account key of acme_account." + a.Name, Credential: true})
}

// Validate checks the account's settings that production CAs ask for.
func (a *Block) Validate(c *schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if a.Directory == "" {
		diags = append(diags, schema.ErrAt(a.DeclRange, "Missing ACME directory", "acme_account needs the directory URL of its CA."))
	}
	diags = schema.Append(diags, c.CheckPath(a.KeyFileRange, "key_file", a.KeyFile))
	if a.CAAIdentity != "" {
		diags = schema.Append(diags, schema.CheckHostname(a.CAAIdentityRange, "caa_identity", a.CAAIdentity, false, false))
	}
	if a.EAB != nil {
		diags = schema.Append(diags, schema.CheckToken(a.EAB.KeyIDRange, "key_id", a.EAB.KeyID))
		diags = schema.Append(diags, c.CheckPath(a.EAB.HMACKeyFileRange, "hmac_key_file", a.EAB.HMACKeyFile))
	}
	return diags
}

// EABEnv is the environment variable that holds the EAB HMAC key of the
// account NAME when its eab block has no hmac_key_file.
func EABEnv(account string) string {
	return "TRUSTFORM_EAB_HMAC_" + strings.ToUpper(regexp.MustCompile(`[^A-Za-z0-9]`).ReplaceAllString(account, "_"))
}

func bind(b providers.Binding, block schema.Block) (any, hcl.Diagnostics) {
	a, cfg := block.(*Block), b.Config()
	var roots []string
	for _, r := range a.CARoots {
		roots = append(roots, cfg.LocalPath(schema.Ref{}, r))
	}
	acct := &Account{Directory: a.Directory, Email: a.Email, CARoots: roots, Dir: filepath.Join(cfg.StateDir(), "acme", a.Name),
		KeyFile: cfg.LocalPath(schema.Ref{}, a.KeyFile), TermsAgreed: a.TermsOfServiceAgreed, CAAIdentity: a.CAAIdentity, Now: b.Now}
	if a.EAB != nil {
		hmac, err := ReadHMACKey(cfg.LocalPath(schema.Ref{}, a.EAB.HMACKeyFile), EABEnv(a.Name), os.Getenv)
		if err != nil {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the EAB HMAC key", Detail: err.Error(), Subject: a.EAB.DeclRange.Ptr()}}
		}
		acct.EAB = &EAB{KeyID: a.EAB.KeyID, HMACKey: hmac}
	}
	return acct, nil
}
