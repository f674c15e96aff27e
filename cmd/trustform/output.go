package main

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/schema"
)

// printDiags writes diagnostics with file:line:column and a source snippet.
func printDiags(e env, cfg *schema.Config, diags hcl.Diagnostics, color bool) {
	if len(diags) == 0 {
		return
	}
	var files map[string]*hcl.File
	if cfg != nil {
		files = cfg.Files
	}
	w := hcl.NewDiagnosticTextWriter(e.stderr, files, 100, color)
	for _, d := range diags {
		if err := w.WriteDiagnostic(d); err != nil {
			fmt.Fprintf(e.stderr, "%s: %s\n", d.Summary, d.Detail)
		}
	}
}

// errorf prints a one-line error and returns exit code 1.
func errorf(e env, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "Error: "+format+"\n", args...)
	return 1
}
