package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/pmezard/go-difflib/difflib"

	"github.com/trustform/trustform/internal/files"
	"github.com/trustform/trustform/schema"
)

func cmdFmt(args []string, chdir string, e env) int {
	var c common
	fs := newFlagSet("fmt", e.stderr, chdir, &c)
	check := fs.Bool("check", false, "only report files that are not formatted (exit 3)")
	diff := fs.Bool("diff", false, "show the changes as a unified diff")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	paths := fs.Args()
	if len(paths) == 0 {
		paths = []string{c.chdir}
	}
	var targets []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return errorf(e, "%v", err)
		}
		if !st.IsDir() {
			targets = append(targets, p)
			continue
		}
		names, err := schema.ConfigFiles(p)
		if err != nil {
			return errorf(e, "%v", err)
		}
		for _, n := range names {
			if strings.HasSuffix(n, ".hcl") { // JSON files have no canonical HCL layout
				targets = append(targets, n)
			}
		}
	}
	unformatted := 0
	for _, p := range targets {
		src, err := os.ReadFile(p)
		if err != nil {
			return errorf(e, "%v", err)
		}
		if _, diags := hclwrite.ParseConfig(src, p, hcl.InitialPos); diags.HasErrors() {
			printDiags(e, &c, nil, diags, false)
			return 2 // as terraform fmt: a syntax error
		}
		out := hclwrite.Format(src)
		if bytes.Equal(src, out) {
			continue
		}
		unformatted++
		fmt.Fprintln(e.stdout, p)
		if *diff {
			ud := difflib.UnifiedDiff{A: difflib.SplitLines(string(src)), B: difflib.SplitLines(string(out)),
				FromFile: "old/" + filepath.Base(p), ToFile: "new/" + filepath.Base(p), Context: 3}
			text, _ := difflib.GetUnifiedDiffString(ud)
			fmt.Fprint(e.stdout, text)
		}
		if !*check {
			st, _ := os.Stat(p)
			if err := files.WriteAtomic(p, out, st.Mode().Perm()); err != nil {
				return errorf(e, "%v", err)
			}
		}
	}
	if *check && unformatted > 0 {
		return 3 // as terraform fmt -check
	}
	return 0
}
