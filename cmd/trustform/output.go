package main

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/schema"
)

// printDiags writes diagnostics with file:line:column and a source snippet
// (no colour where plain, as beside JSON or Markdown on stdout); with
// -compact-warnings, warnings take one line each. Summaries and details are
// escaped: they may quote what a server answered.
func printDiags(e env, c *common, cfg *schema.Config, diags hcl.Diagnostics, plain bool) {
	if len(diags) == 0 {
		return
	}
	var files map[string]*hcl.File
	if cfg != nil {
		files = cfg.Files
	}
	if c.ui != nil {
		c.ui.diagnostics(files, diags)
		return
	}
	color := c.colorErr(e) && !plain
	warnings := 0
	similar := similarWarnings(diags)
	for _, d := range diags {
		if d.Severity == hcl.DiagWarning && !c.compactWarnings {
			switch more := similar[warningKind(d)]; {
			case len(more) > maxSimilar && more[0] == d:
				d = consolidated(d, more[1:])
			case len(more) > maxSimilar:
				continue
			}
		}
		d := *d
		d.Summary, d.Detail = plan.Escape(d.Summary, false), plan.Escape(d.Detail, true)
		if c.compactWarnings && d.Severity == hcl.DiagWarning {
			warnings++
			where := ""
			if d.Subject != nil {
				where = fmt.Sprintf(" (%s)", d.Subject)
			}
			fmt.Fprintf(e.stderr, "Warning: %s%s\n", d.Summary, where)
			continue
		}
		quoted, qd := snippet(files, &d)
		if err := hcl.NewDiagnosticTextWriter(e.stderr, quoted, cmp.Or(uint(max(e.width-1, 0)), 100), color).WriteDiagnostic(qd); err != nil {
			fmt.Fprintf(e.stderr, "%s: %s\n", d.Summary, d.Detail)
		}
	}
	if warnings > 0 {
		fmt.Fprintf(e.stderr, "%d warning(s); run without -compact-warnings for their details.\n", warnings)
	}
}

// errorf prints an error, escaped (it may quote a server's or a command's
// output), and returns exit code 1.
func errorf(e env, format string, args ...any) int {
	fmt.Fprintln(e.stderr, "Error: "+plan.Escape(fmt.Sprintf(format, args...), true))
	return 1
}

// maxSimilar is how many warnings of one kind are shown in full; beyond,
// the first stands for all of them, as Terraform consolidates warnings.
// (Each full warning reads its file to quote the line: 2,000 warnings on
// a 10,000-block configuration took minutes.)
const maxSimilar = 5

// warningKind is a warning's summary without the address it starts with
// and with the names it quotes left out ("tlsa.h0_smtp: DANE for SMTP…"
// and "tlsa.h1_smtp: …" are one kind, and so are "tlsa.h0_25:
// mx.h0.example.test. is not an MX host" and "tlsa.h1_25: mx.h1…").
func warningKind(d *hcl.Diagnostic) string {
	summary := d.Summary
	if addr, rest, ok := strings.Cut(d.Summary, ": "); ok && strings.Contains(addr, ".") && !strings.ContainsAny(addr, " \t") {
		summary = rest
	}
	words := strings.Fields(summary)
	for i, w := range words {
		if strings.Contains(strings.TrimRight(w, ".,;:"), ".") {
			words[i] = "NAME"
		}
	}
	return strings.Join(words, " ")
}

// similarWarnings groups the warnings by kind, in order.
func similarWarnings(diags hcl.Diagnostics) map[string][]*hcl.Diagnostic {
	out := map[string][]*hcl.Diagnostic{}
	for _, d := range diags {
		if d.Severity == hcl.DiagWarning {
			out[warningKind(d)] = append(out[warningKind(d)], d)
		}
	}
	return out
}

// consolidated is first, saying which others are like it.
func consolidated(first *hcl.Diagnostic, others []*hcl.Diagnostic) *hcl.Diagnostic {
	var names []string
	for _, o := range others {
		if addr, _, ok := strings.Cut(o.Summary, ": "); ok && len(names) < 10 {
			names = append(names, addr)
		}
	}
	if len(others) > len(names) {
		names = append(names, "…")
	}
	d := *first
	d.Detail += fmt.Sprintf("\n\n(and %d more similar warnings: %s)", len(others), strings.Join(names, ", "))
	return &d
}
