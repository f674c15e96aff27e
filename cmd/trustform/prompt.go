package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/term"

	"github.com/trustform/trustform/schema"
)

// promptVariables asks on the terminal for each required variable that
// has no value, as Terraform does (the description, then "Enter a value:";
// a sensitive one without echo), and returns them as -var values. It asks
// nothing when stdin is no terminal, with -input=false or beside a JSON
// stream: the diagnostics then say how to give the values.
func promptVariables(e env, c *common, cfg *schema.Config, diags hcl.Diagnostics) []schema.VarArg {
	if !c.input || !e.inTTY || c.ui != nil || cfg == nil {
		return nil
	}
	var out []schema.VarArg
	for _, v := range cfg.Variables {
		if !missingValue(v, diags) {
			continue
		}
		fmt.Fprintf(e.stderr, "var.%s\n", v.Name)
		if v.Description != "" {
			fmt.Fprintf(e.stderr, "  %s\n", strings.ReplaceAll(v.Description, "\n", "\n  "))
		}
		fmt.Fprint(e.stderr, "\n  Enter a value: ")
		value, err := readAnswer(e, v.Sensitive)
		fmt.Fprintln(e.stderr)
		if err != nil {
			return out
		}
		out = append(out, schema.VarArg{Name: v.Name, Value: value})
	}
	return out
}

// missingValue reports whether diags say that v has no value.
func missingValue(v *schema.Variable, diags hcl.Diagnostics) bool {
	for _, d := range diags {
		if d.Summary == schema.NoValueSummary && d.Subject != nil && *d.Subject == v.DeclRange {
			return true
		}
	}
	return false
}

// readAnswer reads one line from stdin, without echo for a secret on a
// real terminal. It reads byte by byte: a buffered reader would take the
// lines meant for the next question.
func readAnswer(e env, secret bool) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && secret && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		return string(b), err
	}
	var line []byte
	b := make([]byte, 1)
	for {
		n, err := e.stdin.Read(b)
		if n == 1 && b[0] == '\n' {
			return strings.TrimSuffix(string(line), "\r"), nil
		}
		line = append(line, b[:n]...)
		if err == io.EOF && len(line) > 0 {
			return string(line), nil
		}
		if err != nil {
			return "", err
		}
	}
}
