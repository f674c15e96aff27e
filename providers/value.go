package providers

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Value is what a resource looks like, desired or observed.
type Value map[string]Attr

// Attr is one attribute: a string, a list of strings, or a value that is not
// known until some step of the apply has run (a key not generated yet).
type Attr struct {
	Str     string
	List    []string
	IsList  bool
	Unknown string // non-empty when unknown: says what it waits for
}

// String returns a known string attribute.
func String(s string) Attr { return Attr{Str: s} }

// List returns a known list attribute.
func List(l ...string) Attr {
	if l == nil {
		l = []string{}
	}
	return Attr{List: l, IsList: true}
}

// Unknown returns an attribute known only after reason happens.
func Unknown(reason string) Attr { return Attr{Unknown: reason} }

// Known reports whether the value is known now.
func (a Attr) Known() bool { return a.Unknown == "" }

// Equal compares two attributes; unknown values equal nothing.
func (a Attr) Equal(b Attr) bool {
	if !a.Known() || !b.Known() || a.IsList != b.IsList {
		return false
	}
	if a.IsList {
		return slices.Equal(a.List, b.List)
	}
	return a.Str == b.Str
}

func (a Attr) String() string {
	switch {
	case !a.Known():
		return "(known after " + a.Unknown + ")"
	case a.IsList:
		return fmt.Sprint(a.List)
	}
	return a.Str
}

// MarshalJSON writes a string, an array of strings, or {"unknown": reason}.
func (a Attr) MarshalJSON() ([]byte, error) {
	switch {
	case !a.Known():
		return json.Marshal(struct {
			Unknown string `json:"unknown"`
		}{a.Unknown})
	case a.IsList:
		if a.List == nil {
			return []byte("[]"), nil
		}
		return json.Marshal(a.List)
	}
	return json.Marshal(a.Str)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (a *Attr) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case string:
		*a = String(v)
	case []any:
		l := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("attribute list holds a %T, want strings", e)
			}
			l[i] = s
		}
		*a = List(l...)
	case map[string]any:
		r, _ := v["unknown"].(string)
		if r == "" {
			r = "apply"
		}
		*a = Unknown(r)
	default:
		return fmt.Errorf("attribute is a %T, want a string, a list or {\"unknown\": ...}", v)
	}
	return nil
}

// Keys returns the attribute names in order.
func (v Value) Keys() []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Known reports whether every attribute is known.
func (v Value) Known() bool {
	for _, a := range v {
		if !a.Known() {
			return false
		}
	}
	return true
}

// Differs lists the attributes of want that got lacks or holds differently.
// Attributes only in got (observations with no desired counterpart) do not count.
func Differs(want, got Value) []string {
	var out []string
	for _, k := range want.Keys() {
		g, ok := got[k]
		if !ok || !want[k].Equal(g) {
			out = append(out, k)
		}
	}
	return out
}

// Clone copies v.
func (v Value) Clone() Value {
	if v == nil {
		return nil
	}
	out := make(Value, len(v))
	for k, a := range v {
		if a.IsList {
			a.List = slices.Clone(a.List)
		}
		out[k] = a
	}
	return out
}

// DiffReasons says what differs; for what a server serves (served_*) it
// quotes the observed answer, since that is what a user has to look into.
func DiffReasons(attrs []string, want, got Value) []string {
	var plain, out []string
	for _, a := range attrs {
		if strings.HasPrefix(a, "served_") {
			g, ok := got[a]
			seen := "nothing"
			if ok {
				seen = strconv.Quote(g.String())
			}
			out = append(out, fmt.Sprintf("the server answers %s = %s, the configuration wants %s", a, seen, strconv.Quote(want[a].String())))
			continue
		}
		plain = append(plain, a)
	}
	if len(plain) > 0 {
		out = append([]string{strings.Join(plain, ", ") + " differ from the configuration"}, out...)
	}
	return out
}
