package main

import (
	"encoding/json"
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/rules"
	"github.com/trustform/trustform/schema"
)

func cmdValidate(args []string, chdir string, e env) int {
	c := common{unset: true}
	fs := newFlagSet("validate", e.stderr, chdir, &c)
	asJSON := fs.Bool("json", false, "print the result as JSON, as terraform validate -json does")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return errorf(e, "validate takes no arguments; got %q (it checks the configuration directory: -chdir=DIR for another)", fs.Args())
	}
	cfg, diags := c.load(e)
	if !diags.HasErrors() {
		diags = append(diags, rules.Refuse(cfg)...)
	}
	if *asJSON {
		writeValidateJSON(e, cfg, diags)
	} else {
		printDiags(e, &c, cfg, diags, false)
	}
	if diags.HasErrors() {
		return 1
	}
	if !*asJSON {
		fmt.Fprintln(e.stdout, "The configuration is valid.")
	}
	return 0
}

// writeValidateJSON writes Terraform's validate -json object.
func writeValidateJSON(e env, cfg *schema.Config, diags hcl.Diagnostics) {
	var files map[string]*hcl.File
	if cfg != nil {
		files = cfg.Files
	}
	out := []uiDiagnostic{}
	for _, d := range diags {
		out = append(out, jsonDiagnostic(files, d))
	}
	warnings := 0
	for _, d := range diags {
		if d.Severity == hcl.DiagWarning {
			warnings++
		}
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	enc.Encode(struct {
		FormatVersion string         `json:"format_version"`
		Valid         bool           `json:"valid"`
		ErrorCount    int            `json:"error_count"`
		WarningCount  int            `json:"warning_count"`
		Diagnostics   []uiDiagnostic `json:"diagnostics"`
	}{"1.0", !diags.HasErrors(), len(diags) - warnings, warnings, out})
}
