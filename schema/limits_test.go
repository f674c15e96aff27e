package schema

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// lexedDepth is the deepest nesting the lexer sees, as checkLimits counts it.
func lexedDepth(src []byte) (max int, heredoc bool) {
	tokens, _ := hclsyntax.LexConfig(src, "f.hcl", hcl.InitialPos)
	depth := 0
	for _, t := range tokens {
		switch t.Type {
		case hclsyntax.TokenOBrack, hclsyntax.TokenOBrace, hclsyntax.TokenOParen, hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			depth++
			max = maxInt(max, depth)
		case hclsyntax.TokenCBrack, hclsyntax.TokenCBrace, hclsyntax.TokenCParen, hclsyntax.TokenTemplateSeqEnd:
			depth--
		case hclsyntax.TokenOHeredoc:
			heredoc = true
		}
	}
	return max, heredoc
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// shallow may only ever say "within the limits" of what the lexer finds
// within them: a source it passes has no heredoc and no deeper nesting.
func FuzzShallow(f *testing.F) {
	for _, s := range []string{
		"a = [[[1]]]\n", `a = "]]]" b = [[[`, "# [[[\na = 1", "/* ]] */ a = [[", `a = "\"[[" b = 1`,
		`a = "${[[[1]]]}"`, "a = <<EOT\n[[[\nEOT\n", `a = "x\\"` + "\n", strings.Repeat("[", 101),
		`a = "%{ if true }[[%{ endif }"`, "b { c { d = (1) } }",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if !shallow(src) {
			return
		}
		if depth, heredoc := lexedDepth(src); depth > MaxNesting || heredoc {
			t.Fatalf("shallow passed a source the lexer finds %d deep (heredoc %v):\n%q", depth, heredoc, src)
		}
	})
}

func TestShallow(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{"a = [[[1]]]\n", true},
		{strings.Repeat("[", MaxNesting+1), false},
		{`a = "` + strings.Repeat("[", 200) + `"`, true},
		{"# " + strings.Repeat("[", 200) + "\na = 1", true},
		{`a = "${var.x}"`, false},
		{"a = <<EOT\nx\nEOT\n", false},
		{`a = "unterminated` + "\n", false},
	} {
		if got := shallow([]byte(tc.src)); got != tc.want {
			t.Errorf("shallow(%.40q) = %v, want %v", tc.src, got, tc.want)
		}
	}
}
