package schema

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Address names a block: TYPE.NAME. It is also the resource address used in
// plans, state and -target.
type Address struct {
	Type string
	Name string
}

func (a Address) String() string { return a.Type + "." + a.Name }

// Base is the block's label, without an instance's key.
func (a Address) Base() string { b, _, _ := SplitInstance(a.Name); return b }

// Key is an instance's for_each key, or "".
func (a Address) Key() string { _, k, _ := SplitInstance(a.Name); return k }

// IsZero reports whether a is the empty address.
func (a Address) IsZero() bool { return a.Type == "" }

// ParseAddress parses "TYPE.NAME" or, for an instance, TYPE.NAME["KEY"].
func ParseAddress(s string) (Address, error) {
	typ, name, ok := strings.Cut(s, ".")
	base, key, inst := SplitInstance(name)
	if !ok || !ValidIdentifier(typ) || !ValidIdentifier(base) || (inst && !instanceKey.MatchString(key)) || (!inst && name != base) {
		return Address{}, fmt.Errorf("%q is not a resource address (want TYPE.NAME, e.g. certificate.www, or TYPE.NAME[\"KEY\"])", s)
	}
	return Address{typ, name}, nil
}

// ValidIdentifier is hclsyntax.ValidIdentifier, without running HCL's
// lexer for the names of ASCII letters, digits, underscores and dashes
// that every address holds (a plan parses an address per step and change:
// the lexer made that a tenth of a 10,000-resource plan).
func ValidIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case (c >= '0' && c <= '9' || c == '-') && i > 0:
		case c >= 0x80:
			return hclsyntax.ValidIdentifier(s) // Unicode letters: HCL decides
		default:
			return false
		}
	}
	return true
}

// Ref is a reference from one block to another, with where it was written.
type Ref struct {
	Address
	Range hcl.Range
}

// Set reports whether the reference was written at all.
func (r Ref) Set() bool { return !r.IsZero() }

// decodeRef reads a TYPE.NAME reference from expr. A missing optional
// attribute (a null expression) gives the zero Ref.
func decodeRef(expr hcl.Expression, attr string, types ...string) (Ref, hcl.Diagnostics) {
	if expr == nil {
		return Ref{}, nil
	}
	trav, diags := hcl.AbsTraversalForExpr(expr)
	if diags.HasErrors() {
		if v, d := expr.Value(nil); !d.HasErrors() && v.IsNull() {
			return Ref{}, nil
		}
		return Ref{}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid reference",
			Detail:   fmt.Sprintf("%s must be a reference such as %s.NAME, written without quotes.", attr, types[0]),
			Subject:  expr.Range().Ptr(),
		}}
	}
	key, keyed := "", len(trav) == 3
	if keyed {
		ix, ok := trav[2].(hcl.TraverseIndex)
		keyed = ok && ix.Key.Type() == cty.String && ix.Key.IsKnown() && !ix.Key.IsNull()
		if keyed {
			key = ix.Key.AsString()
		}
	}
	if len(trav) != 2 && !keyed {
		return Ref{}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid reference",
			Detail:   fmt.Sprintf("%s must be a reference of the form TYPE.NAME, such as %s.NAME, or TYPE.NAME[\"KEY\"] for an instance of a for_each block.", attr, types[0]),
			Subject:  expr.Range().Ptr(),
		}}
	}
	typ := trav.RootName()
	name, ok := trav[1].(hcl.TraverseAttr)
	if ok && keyed {
		name.Name = InstanceName(name.Name, key)
	}
	if !ok {
		return Ref{}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid reference",
			Detail:   fmt.Sprintf("%s must be a reference of the form TYPE.NAME.", attr),
			Subject:  expr.Range().Ptr(),
		}}
	}
	for _, t := range types {
		if t == typ {
			return Ref{Address{typ, name.Name}, expr.Range()}, nil
		}
	}
	return Ref{}, hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Wrong reference type",
		Detail:   fmt.Sprintf("%s must refer to %s, not to %s.", attr, strings.Join(types, " or "), typ),
		Subject:  expr.Range().Ptr(),
	}}
}
