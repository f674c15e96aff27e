package plan

import "github.com/hashicorp/hcl/v2"

// Diagnostics converts hcl diagnostics to plan data.
func Diagnostics(diags hcl.Diagnostics) []Diagnostic {
	out := []Diagnostic{}
	for _, d := range diags {
		pd := Diagnostic{Summary: d.Summary, Detail: d.Detail, Severity: "error"}
		if d.Severity == hcl.DiagWarning {
			pd.Severity = "warning"
		}
		if d.Subject != nil {
			pd.Range = &Range{
				Filename: d.Subject.Filename,
				Start:    Pos{d.Subject.Start.Line, d.Subject.Start.Column, d.Subject.Start.Byte},
				End:      Pos{d.Subject.End.Line, d.Subject.End.Column, d.Subject.End.Byte},
			}
		}
		out = append(out, pd)
	}
	return out
}
