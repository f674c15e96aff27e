package providers

import (
	"context"
	"regexp"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/trustform/trustform/internal/host"
)

// Found is a block trustform import writes: what it found on a host, as
// the block that declares it. A block whose Resource is set is taken over
// (its state entry recorded as observed); the others only configure (an
// acme_account's directory, a dns_zone's server).
type Found struct {
	Type, Name string
	Attrs      []FoundAttr
	Blocks     []Found // nested blocks (tsig), without a name
	Resource   bool
}

// FoundAttr is one attribute of a found block: a literal, or a reference
// to another block (Ref, TYPE.NAME), written as such.
type FoundAttr struct {
	Name  string
	Value cty.Value
	Ref   string
}

// Lit is a literal attribute.
func Lit(name string, v cty.Value) FoundAttr { return FoundAttr{Name: name, Value: v} }

// RefAttr is a reference attribute.
func RefAttr(name, ref string) FoundAttr { return FoundAttr{Name: name, Ref: ref} }

// Strings is a list of strings as a cty value.
func Strings(s ...string) cty.Value {
	if len(s) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vals := make([]cty.Value, len(s))
	for i, v := range s {
		vals[i] = cty.StringVal(v)
	}
	return cty.ListVal(vals)
}

// Imported is what an import found: the blocks to write, in order, and
// what the user should know (what was left out, and why; what to do next).
type Imported struct {
	Blocks []Found
	Notes  []string
}

// Add appends what another import found.
func (i *Imported) Add(o Imported) {
	i.Blocks = append(i.Blocks, o.Blocks...)
	i.Notes = append(i.Notes, o.Notes...)
}

// Note records something the user should know.
func (i *Imported) Note(s string) { i.Notes = append(i.Notes, s) }

// HeldCert is a certificate the configuration declares already, as an
// import ties what it finds to it: by the files a server reads, or by the
// key a TLSA record pins.
type HeldCert struct {
	Addr     string // certificate.NAME
	CertFile string // as the host sees them
	KeyFile  string
	SPKI     string // SHA-256 of the key, hex
	Leaf     string // SHA-256 of the leaf certificate, hex
}

// ImportInput is what an import reads: the paths given (or the source's
// defaults), the certificates of the configuration, and for a zone its
// records.
type ImportInput struct {
	Paths   []string
	Certs   []HeldCert
	Zone    string                                      // dns_zone.NAME being imported (zone)
	Origin  string                                      // its name, fully qualified
	Records func(ctx context.Context) ([]string, error) // its records, in presentation form
	// CARoots is a file of roots the imported certificates chain to
	// beside the system's (a private or test CA).
	CARoots string
	// TestCommand and ReloadCommand are the server's own commands, where
	// they are not its defaults (nginx -t, nginx -s reload…).
	TestCommand, ReloadCommand string
}

// Importer reads one source of existing configuration (certbot, nginx,
// a zone…) as blocks.
type Importer struct {
	Source   string
	Defaults []string // paths read when none are given
	About    string   // what it reads, for help
	Read     func(ctx context.Context, in ImportInput) (Imported, error)
}

var notIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// Identifier makes a block name of s: "www.example.com" → www_example_com.
func Identifier(s string) string {
	id := strings.Trim(notIdent.ReplaceAllString(strings.ToLower(s), "_"), "_")
	if id == "" || (id[0] >= '0' && id[0] <= '9') {
		id = "n_" + id
	}
	return id
}

// Planted says why a file an import would read may have been put there by
// another user (host.Planted, on this machine), or "": such a file is
// never adopted.
func Planted(path string) string {
	why, err := host.Planted(host.Local{}, path)
	if err != nil {
		return err.Error()
	}
	return why
}
