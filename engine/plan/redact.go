package plan

import "github.com/trustform/trustform/providers"

// Redact returns a copy of p with hide applied to every text a value could
// reach (changes, reasons, step descriptions, diagnostics), before the plan
// is encoded: JSON's escapes (an & written \u0026) cannot carry a secret
// past it, and a signature covers what the file holds.
func Redact(p *Plan, hide func(string) string) *Plan {
	q := *p
	q.Changes = make([]Change, len(p.Changes))
	for i, c := range p.Changes {
		c.Before, c.After = redactValue(c.Before, hide), redactValue(c.After, hide)
		c.Reasons = redactAll(c.Reasons, hide)
		q.Changes[i] = c
	}
	q.Steps = make([]Step, len(p.Steps))
	for i, s := range p.Steps {
		s.Description = hide(s.Description)
		q.Steps[i] = s
	}
	q.Diagnostics = make([]Diagnostic, len(p.Diagnostics))
	for i, d := range p.Diagnostics {
		d.Summary, d.Detail = hide(d.Summary), hide(d.Detail)
		q.Diagnostics[i] = d
	}
	return &q
}

func redactValue(v providers.Value, hide func(string) string) providers.Value {
	if v == nil {
		return nil
	}
	out := v.Clone()
	for k, a := range out {
		a.Str = hide(a.Str)
		a.List = redactAll(a.List, hide)
		out[k] = a
	}
	return out
}

func redactAll(l []string, hide func(string) string) []string {
	if l == nil {
		return nil
	}
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = hide(s)
	}
	return out
}
