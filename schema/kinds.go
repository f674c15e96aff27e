package schema

import (
	"reflect"

	"github.com/hashicorp/hcl/v2"
)

// Block is a top-level block of the language: a pointer to a struct whose
// hcl tags say how it is decoded (its label, attributes and their value
// ranges, nested blocks, def_range). The kind that owns the block defines
// the struct; the language reaches it only through this interface and the
// optional ones below.
type Block interface {
	// Header is the block's label (nil for a block without one) and where
	// it is declared. Decoding sets them through these pointers; reading
	// them through a method rather than by reflection keeps a fleet's
	// configuration cheap to walk.
	Header() (label *string, decl *hcl.Range)
}

// Referrer is a block that refers to other blocks.
type Referrer interface {
	// References are the block's reference attributes, each with where
	// its resolved Ref goes, in declaration order.
	References() []Reference
}

// Reference is one reference attribute of a block (TYPE.NAME).
type Reference struct {
	Attr     string         // as written: "certificate"
	Expr     hcl.Expression // the attribute's expression; a null one is not set
	To       *Ref           // set to the resolved reference
	Types    []string       // the block types it may name
	Required bool
}

// Validator is a block that checks itself once every reference is
// resolved, and fills in its defaults.
type Validator interface {
	Validate(c *Config) hcl.Diagnostics
}

// FileNamer is a block that names files: those trustform writes, and the
// secrets it reads.
type FileNamer interface {
	Files() []File
}

// File is a file a block names, by one of its attributes.
type File struct {
	Attr  string
	Range hcl.Range
	Host  Ref    // the host it is on; a credential is on the runner
	Path  string // as written
	// Managed files are written by trustform and shown in plans: never a
	// secret, nor in the state directory, nor managed by two blocks.
	Managed bool
	// Secret says what the file is when it is one ("the TSIG secret of
	// dns_zone.corp"): file() never reads it. A Credential is a secret
	// of the runner (TSIG, EAB, account keys, SSH identities), which no
	// managed file may be.
	Secret     string
	Credential bool
}

// Kind is one block type of the language, as the package that owns it
// describes it.
type Kind struct {
	Type string // as written in configurations: "certificate"
	// Rank orders the steps of different kinds that a plan can run at the
	// same point: issuers, certificates, TLSA RRsets, vhosts, APT keys,
	// APT sources. Kinds that only configure others have no steps.
	Rank int
	// New returns an empty block to decode into.
	New func() Block
	// Replaceable kinds are what -replace selects when it names a host:
	// the blocks of the kind on that host, and those that blocks on the
	// host refer to.
	Replaceable bool
	// Check, if set, validates the blocks of the kind together, after
	// each has validated itself.
	Check func(c *Config, blocks []Block) hcl.Diagnostics
}

// hostKind is the host block's kind: part of the language, as every kind
// places its files through it.
func hostKind() Kind { return Kind{Type: "host", New: func() Block { return &Host{} }} }

// Kinds are the block kinds of this configuration, the host first, then in
// the order the language was given them (see Language).
func (c *Config) Kinds() []Kind { return c.kinds }

// KindOf returns the kind of a block type, and whether there is one.
func (c *Config) KindOf(typ string) (Kind, bool) {
	for _, k := range c.kinds {
		if k.Type == typ {
			return k, true
		}
	}
	return Kind{}, false
}

func (c *Config) isBlockType(t string) bool {
	_, ok := c.KindOf(t)
	return ok
}

// Blocks are the blocks of one type, in file order.
func (c *Config) Blocks(typ string) []Block { return c.byType[typ] }

// Each calls fn for every block in a stable order: by kind, then in file
// order.
func (c *Config) Each(fn func(addr Address, rng hcl.Range, block Block)) {
	for _, k := range c.kinds {
		for _, b := range c.byType[k.Type] {
			name, decl := b.Header()
			fn(Address{k.Type, *name}, *decl, b)
		}
	}
}

// DeclRange returns the declaration range of a block, or of a nested block
// struct (with a DeclRange field: gohcl's def_range).
func DeclRange(b any) hcl.Range {
	if h, ok := b.(Block); ok && !reflect.ValueOf(b).IsNil() {
		_, decl := h.Header()
		return *decl
	}
	v := reflect.ValueOf(b)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return hcl.Range{}
	}
	r, _ := v.Elem().FieldByName("DeclRange").Interface().(hcl.Range)
	return r
}

// AttrRange is where attr's value is in block b (a *Certificate, …), or
// the block's own range when the attribute is not set or not known.
func AttrRange(b any, attr string) hcl.Range {
	v := reflect.ValueOf(b)
	if attr != "" && v.Kind() == reflect.Pointer && !v.IsNil() {
		t := v.Elem().Type()
		for i := range t.NumField() {
			if t.Field(i).Tag.Get("hcl") == attr+",attr_value_range" {
				if r, _ := v.Elem().Field(i).Interface().(hcl.Range); r.Filename != "" {
					return r
				}
			}
		}
	}
	return DeclRange(b)
}
