package engine

import (
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// redact replaces the values of sensitive variables with "(sensitive)" in
// what plans and state record: a rendered file that holds one shows the
// rest of its content only. Resources keep the real values to apply them.
func (r *Run) redact(v providers.Value) providers.Value {
	secrets := r.cfg.Sensitive()
	if len(secrets) == 0 || v == nil {
		return v
	}
	out := v.Clone()
	for k, a := range out {
		a.Str = schema.Hide(secrets, a.Str)
		for i := range a.List {
			a.List[i] = schema.Hide(secrets, a.List[i])
		}
		out[k] = a
	}
	return out
}
