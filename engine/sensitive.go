package engine

import (
	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// redact replaces what sensitive values became in the resource at addr
// with "(sensitive)", in what plans and state record of it: a rendered
// file that holds one shows the rest of its content only. Only that
// resource's sensitive texts are hidden (schema.Config.SensitiveOf): a
// sensitive value that is an ordinary word leaves the word alone in
// other resources. Resources keep the real values to apply them.
func (r *Run) redact(addr schema.Address, v providers.Value) providers.Value {
	secrets := r.cfg.SensitiveOf(addr)
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

// redactTexts hides, in each change's reasons and each step's
// description, the sensitive texts of its resource.
func (r *Run) redactTexts(p *plan.Plan) {
	hide := func(address string, texts []string) {
		a, err := schema.ParseAddress(address)
		if err != nil {
			return
		}
		if secrets := r.cfg.SensitiveOf(a); len(secrets) > 0 {
			for i := range texts {
				texts[i] = schema.Hide(secrets, texts[i])
			}
		}
	}
	for i := range p.Changes {
		hide(p.Changes[i].Address, p.Changes[i].Reasons)
	}
	for i := range p.Steps {
		d := []string{p.Steps[i].Description}
		hide(p.Steps[i].Address, d)
		p.Steps[i].Description = d[0]
	}
}
