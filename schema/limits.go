package schema

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Limits checked before a source reaches the HCL parser, which recurses once
// per nesting level (100,000 "[" overflow the Go stack) and takes time
// quadratic in a heredoc's lines. A configuration from a pull request must
// not take the runner down.
const (
	MaxFileSize     = 8 << 20 // bytes per configuration file
	MaxNesting      = 100     // brackets, braces, parentheses and interpolations open at once
	MaxHeredocLines = 10000
)

// checkLimits returns a diagnostic for a source beyond the limits. HCL
// native syntax is counted on hclsyntax's own lexer (linear, and it knows
// strings, templates, comments and heredocs); JSON has no comments and its
// strings may hold templates, so every bracket in it counts.
func checkLimits(name string, src []byte, json bool) *hcl.Diagnostic {
	if len(src) > MaxFileSize {
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Configuration file too large",
			Detail: fmt.Sprintf("%s has %d bytes; trustform reads configuration files of up to %d.", name, len(src), MaxFileSize)}
	}
	deep := func(rng hcl.Range) *hcl.Diagnostic {
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Nesting too deep", Subject: rng.Ptr(),
			Detail: fmt.Sprintf("More than %d brackets, braces, parentheses or interpolations are open here; trustform reads configurations nested up to %d levels.", MaxNesting, MaxNesting)}
	}
	if json {
		depth, line := 0, 1
		for _, c := range src {
			switch c {
			case '\n':
				line++
			case '[', '{', '(':
				if depth++; depth > MaxNesting {
					return deep(hcl.Range{Filename: name, Start: hcl.Pos{Line: line, Column: 1}, End: hcl.Pos{Line: line, Column: 1}})
				}
			case ']', '}', ')':
				depth--
			}
		}
		return nil
	}
	tokens, _ := hclsyntax.LexConfig(src, name, hcl.InitialPos)
	depth, heredoc := 0, 0
	for _, t := range tokens {
		switch t.Type {
		case hclsyntax.TokenOBrack, hclsyntax.TokenOBrace, hclsyntax.TokenOParen, hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			if depth++; depth > MaxNesting {
				return deep(t.Range)
			}
		case hclsyntax.TokenCBrack, hclsyntax.TokenCBrace, hclsyntax.TokenCParen, hclsyntax.TokenTemplateSeqEnd:
			depth--
		case hclsyntax.TokenOHeredoc:
			heredoc = t.Range.Start.Line
		case hclsyntax.TokenCHeredoc:
			if n := t.Range.Start.Line - heredoc; n > MaxHeredocLines {
				return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Heredoc too long", Subject: t.Range.Ptr(),
					Detail: fmt.Sprintf("This heredoc has %d lines; trustform reads heredocs of up to %d.", n, MaxHeredocLines)}
			}
		}
	}
	return nil
}
