package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
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
	flags := newFlagSet("fmt", e.stderr, chdir, &c)
	check := flags.Bool("check", false, "only report files that are not formatted (exit 3)")
	diff := flags.Bool("diff", false, "show the changes as a unified diff")
	recursive := flags.Bool("recursive", false, "also format the configuration files of subdirectories")
	if code, ok := c.parse(flags, args); !ok {
		return code
	}
	paths := flags.Args()
	if len(paths) == 1 && paths[0] == "-" { // as terraform fmt -: stdin to stdout
		src, err := io.ReadAll(e.stdin)
		if err != nil {
			return errorf(e, "%v", err)
		}
		if _, diags := hclwrite.ParseConfig(src, "<stdin>", hcl.InitialPos); diags.HasErrors() {
			printDiags(e, &c, nil, diags, false)
			return 2
		}
		e.stdout.Write(hclwrite.Format(src))
		return 0
	}
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
		dirs := []string{p}
		if *recursive {
			dirs = nil
			filepath.WalkDir(p, func(d string, de fs.DirEntry, err error) error {
				switch {
				case err != nil || !de.IsDir():
				case d != p && strings.HasPrefix(de.Name(), "."): // .trustform, .git
					return filepath.SkipDir
				default:
					dirs = append(dirs, d)
				}
				return nil
			})
		}
		for _, d := range dirs {
			names, err := schema.ConfigFiles(d)
			if err != nil {
				return errorf(e, "%v", err)
			}
			for _, n := range names {
				if strings.HasSuffix(n, ".hcl") { // JSON files have no canonical HCL layout
					targets = append(targets, n)
				}
			}
			vars, _ := filepath.Glob(filepath.Join(d, "*"+schema.AutoVarsSuffix)) // NAME = VALUE lines, HCL too
			targets = append(targets, vars...)
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
