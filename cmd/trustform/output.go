package main

import (
	"fmt"

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
	w := hcl.NewDiagnosticTextWriter(e.stderr, files, 100, c.colorErr(e) && !plain)
	warnings := 0
	for _, d := range diags {
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
		if err := w.WriteDiagnostic(&d); err != nil {
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
