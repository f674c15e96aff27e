// Command hclparse is the floor bench/plan10k.sh measures trustform plan
// against: it reads and parses every *.hcl file of a directory with HCL's
// parser, as trustform does first, and nothing else.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2/hclparse"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: hclparse DIR")
		os.Exit(2)
	}
	names, err := filepath.Glob(filepath.Join(os.Args[1], "*.hcl"))
	if err != nil || len(names) == 0 {
		fmt.Fprintln(os.Stderr, "hclparse: no *.hcl file in", os.Args[1])
		os.Exit(1)
	}
	parser := hclparse.NewParser()
	for _, n := range names {
		src, err := os.ReadFile(n)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if _, diags := parser.ParseHCL(src, filepath.Base(n)); diags.HasErrors() {
			fmt.Fprintln(os.Stderr, diags)
			os.Exit(1)
		}
	}
	fmt.Printf("%d files parsed\n", len(parser.Files()))
}
