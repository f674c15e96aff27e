package testkind

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/schema"
)

// Block is a note block:
//
//	note "motd" {
//	  path = "/etc/motd"
//	  text = "managed by trustform"
//	  host = host.web   # optional
//	}
type Block struct {
	Name     string         `hcl:"name,label"`
	Path     string         `hcl:"path"`
	Text     string         `hcl:"text"`
	HostExpr hcl.Expression `hcl:"host,optional"`

	PathRange hcl.Range `hcl:"path,attr_value_range"`
	TextRange hcl.Range `hcl:"text,attr_value_range"`
	DeclRange hcl.Range `hcl:",def_range"`

	Host schema.Ref
}

var (
	_ schema.Block     = (*Block)(nil)
	_ schema.Referrer  = (*Block)(nil)
	_ schema.Validator = (*Block)(nil)
	_ schema.FileNamer = (*Block)(nil)
)

func (b *Block) Header() (*string, *hcl.Range) { return &b.Name, &b.DeclRange }

func (b *Block) References() []schema.Reference {
	return []schema.Reference{{Attr: "host", Expr: b.HostExpr, To: &b.Host, Types: []string{"host"}}}
}

func (b *Block) Files() []schema.File {
	return []schema.File{{Attr: "path", Range: b.PathRange, Host: b.Host, Path: b.Path, Managed: true}}
}

// Validate: a note is one line of text, at an absolute path.
func (b *Block) Validate(*schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if !strings.HasPrefix(b.Path, "/") {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Relative note path",
			Detail: fmt.Sprintf("note.%s: path is where the host keeps the note, absolute; got %q.", b.Name, b.Path), Subject: b.PathRange.Ptr()})
	}
	if b.Text == "" || strings.ContainsAny(b.Text, "\n\x00") {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid note text",
			Detail: fmt.Sprintf("note.%s: text is one line, not empty.", b.Name), Subject: b.TextRange.Ptr()})
	}
	return diags
}
