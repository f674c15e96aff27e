package schema

import (
	"bytes"
	"fmt"
	"unicode/utf8"

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
	if shallow(src) {
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

// shallow reports, without the lexer, that a native-syntax source is
// within the limits: it has no heredoc and no template, and its brackets,
// outside strings and comments, never nest deeper than MaxNesting. It
// answers false whenever it is not sure (a template, a heredoc, a string
// across lines), and the lexer decides. Lexing a file costs as much as
// parsing it, and most files are plain blocks of attributes, so this is
// written by hand: hclsyntax has no cheaper scanner to ask.
func shallow(src []byte) bool { return scanShallow(src, nil) }

// scanShallow is shallow, calling itemEnd (when not nil) with the offset
// just past each line break that directly follows a closing brace at depth
// zero: where a top-level block (or an attribute's object) ends and the
// next item may begin. The offsets mean nothing when it returns false.
func scanShallow(src []byte, itemEnd func(int)) bool {
	if !utf8.Valid(src) {
		return false // the lexer may take a byte after an invalid one (a "#") into it
	}
	depth := 0
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '[', '{', '(':
			if depth++; depth > MaxNesting {
				return false
			}
		case ']', '}', ')':
			depth--
			if c == '}' && depth == 0 && itemEnd != nil && i+1 < len(src) && src[i+1] == '\n' {
				itemEnd(i + 2)
			}
		case '<':
			if i+1 < len(src) && src[i+1] == '<' {
				return false // a heredoc
			}
		case '#':
			i = lineEnd(src, i)
		case '/':
			switch {
			case i+1 < len(src) && src[i+1] == '/':
				i = lineEnd(src, i)
			case i+1 < len(src) && src[i+1] == '*':
				end := bytes.Index(src[i+2:], []byte("*/"))
				if end < 0 {
					return false
				}
				i += 2 + end + 1
			}
		case '"':
			for i++; ; i++ {
				if i >= len(src) || src[i] == '\n' {
					return false // unterminated
				}
				if src[i] == '\\' {
					i++ // the escaped character
					continue
				}
				if src[i] == '"' {
					break
				}
				if (src[i] == '$' || src[i] == '%') && i+1 < len(src) && src[i+1] == '{' {
					return false // a template (or its $${ escape): the lexer knows
				}
			}
		}
	}
	return true
}

// lineEnd is the index of the newline ending the line at i (or the end).
func lineEnd(src []byte, i int) int {
	if n := bytes.IndexByte(src[i:], '\n'); n >= 0 {
		return i + n
	}
	return len(src)
}
