package schema

import (
	"slices"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// Sensitivity is a go-cty mark: the value of a sensitive variable carries
// it, and go-cty carries it through every function and expression that
// uses the value (upper(var.pw) is as sensitive as var.pw). Decoding
// records, per block, the strings that marked values became
// (SensitiveOf); plans show "(sensitive)" in their place, in that block's
// values only: a sensitive value that is an ordinary word does not mask
// the word elsewhere.

// mark is the type of trustform's marks.
type mark string

// Sensitive marks the values of sensitive variables and all they flow into.
const Sensitive mark = "sensitive"

// markedLeaves are the strings and numbers of v that carry a mark.
func markedLeaves(v cty.Value) []string {
	if v.IsMarked() {
		u, _ := v.UnmarkDeep()
		return leafStrings(u)
	}
	if !v.IsKnown() || v.IsNull() || !v.CanIterateElements() {
		return nil
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		out = append(out, markedLeaves(e)...)
	}
	return out
}

// leafStrings are the strings and numbers inside a value (unmarked).
func leafStrings(v cty.Value) []string {
	v, _ = v.UnmarkDeep()
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	switch {
	case v.Type() == cty.String:
		if s := v.AsString(); s != "" {
			return []string{s}
		}
	case v.Type() == cty.Number:
		return []string{v.AsBigFloat().Text('f', -1)}
	case v.CanIterateElements():
		var out []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out = append(out, leafStrings(e)...)
		}
		return out
	}
	return nil
}

// Sensitive lists every sensitive text of the configuration: the values
// of sensitive variables and what decoding made of them. Diagnostics and
// errors, which may quote any of them, show "(sensitive)" instead.
func (c *Config) Sensitive() []string {
	var out []string
	for _, v := range c.Variables {
		if v.Sensitive {
			out = append(out, leafStrings(v.Value)...)
		}
	}
	for _, l := range c.sensitive {
		out = append(out, l...)
	}
	return out
}

// SensitiveOf lists the sensitive texts that can be in the values of the
// resource at addr: what its attributes hold of marked values, and what
// the blocks it refers to (directly or not) hold.
func (c *Config) SensitiveOf(addr Address) []string { return c.sensitiveOf[addr] }

// spreadSensitive computes SensitiveOf: each block's sensitive texts go
// to every block that refers to it, transitively.
func (c *Config) spreadSensitive() {
	c.sensitiveOf = map[Address][]string{}
	for from, texts := range c.sensitive {
		seen := map[Address]bool{from: true}
		queue := []Address{from}
		for len(queue) > 0 {
			a := queue[0]
			queue = queue[1:]
			c.sensitiveOf[a] = append(c.sensitiveOf[a], texts...)
			for _, r := range c.Referrers(a) {
				if !seen[r] {
					seen[r] = true
					queue = append(queue, r)
				}
			}
		}
	}
}

// Hide replaces every secret in s with "(sensitive)": the longest first, so
// that a secret containing another is hidden whole.
func Hide(secrets []string, s string) string {
	if len(secrets) == 0 {
		return s
	}
	sorted := make([]string, 0, len(secrets))
	for _, x := range secrets {
		if x != "" {
			sorted = append(sorted, x)
		}
	}
	slices.SortStableFunc(sorted, func(a, b string) int { return len(b) - len(a) })
	for _, x := range sorted {
		s = strings.ReplaceAll(s, x, "(sensitive)")
	}
	return s
}
