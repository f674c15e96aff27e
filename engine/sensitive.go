package engine

import (
	"strings"

	"github.com/trustform/trustform/providers"
)

// redact replaces the values of sensitive variables with "(sensitive)" in
// what plans and state record: a rendered file that holds one shows the
// rest of its content only. Resources keep the real values to apply them.
func (r *Run) redact(v providers.Value) providers.Value {
	secrets := r.cfg.Sensitive()
	if len(secrets) == 0 || v == nil {
		return v
	}
	hide := func(s string) string {
		for _, x := range secrets {
			s = strings.ReplaceAll(s, x, "(sensitive)")
		}
		return s
	}
	out := v.Clone()
	for k, a := range out {
		a.Str = hide(a.Str)
		for i := range a.List {
			a.List[i] = hide(a.List[i])
		}
		out[k] = a
	}
	return out
}
