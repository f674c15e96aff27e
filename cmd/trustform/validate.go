package main

import (
	"fmt"

	"github.com/trustform/trustform/engine/rules"
	"github.com/trustform/trustform/schema"
)

func cmdValidate(args []string, chdir string, e env) int {
	var c common
	fs := newFlagSet("validate", e.stderr, chdir, &c)
	if err := fs.Parse(args); err != nil {
		return 1
	}
	cfg, diags := schema.Load(c.chdir)
	if !diags.HasErrors() {
		diags = append(diags, rules.Refuse(cfg)...)
	}
	printDiags(e, cfg, diags, c.color(e))
	if diags.HasErrors() {
		return 1
	}
	fmt.Fprintln(e.stdout, "The configuration is valid.")
	return 0
}
