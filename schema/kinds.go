package schema

import (
	"reflect"

	"github.com/hashicorp/hcl/v2"
)

// Kind is one block type of the language.
type Kind struct {
	Type string // as written in configurations: "certificate"
	// Rank orders the steps of different kinds that a plan can run at the
	// same point: issuers, certificates, TLSA RRsets, vhosts, APT keys,
	// APT sources. Kinds that only configure others have no steps.
	Rank   int
	blocks func(*Config) []any
}

// Kinds is the one table of block kinds, in the order of the language
// reference. A new kind is a block struct in blocks.go, its slice in the
// file struct and Config, and one line here.
func Kinds() []Kind {
	return []Kind{
		{"host", 0, func(c *Config) []any { return list(c.Hosts) }},
		{"dns_zone", 0, func(c *Config) []any { return list(c.Zones) }},
		{"acme_account", 0, func(c *Config) []any { return list(c.ACMEAccounts) }},
		{"local_ca", 0, func(c *Config) []any { return list(c.LocalCAs) }},
		{"certificate", 1, func(c *Config) []any { return list(c.Certificates) }},
		{"tlsa", 2, func(c *Config) []any { return list(c.TLSAs) }},
		{"tls_policy", 0, func(c *Config) []any { return list(c.TLSPolicies) }},
		{"vhost", 3, func(c *Config) []any { return list(c.Vhosts) }},
		{"service", 3, func(c *Config) []any { return list(c.Services) }},
		{"apt_key", 4, func(c *Config) []any { return list(c.APTKeys) }},
		{"apt_source", 5, func(c *Config) []any { return list(c.APTSources) }},
	}
}

// KindOf returns the kind of a block type, and whether there is one.
func KindOf(typ string) (Kind, bool) {
	for _, k := range Kinds() {
		if k.Type == typ {
			return k, true
		}
	}
	return Kind{}, false
}

func list[T any](s []*T) []any {
	out := make([]any, len(s))
	for i, b := range s {
		out[i] = b
	}
	return out
}

// Each calls fn for every block in a stable order: by kind in the order of
// the language reference, then in file order.
func (c *Config) Each(fn func(addr Address, rng hcl.Range, block any)) {
	for _, k := range Kinds() {
		for _, b := range k.blocks(c) {
			name, decl := b.(header).header()
			fn(Address{k.Type, *name}, *decl, b)
		}
	}
}

func isBlockType(t string) bool {
	_, ok := KindOf(t)
	return ok
}

// DeclRange returns the declaration range of a block of this package: every
// block struct has a DeclRange field (gohcl's def_range).
func DeclRange(b any) hcl.Range {
	if h, ok := b.(header); ok && !reflect.ValueOf(b).IsNil() {
		_, decl := h.header()
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
