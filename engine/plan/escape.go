package plan

import (
	"strconv"
	"strings"
	"unicode"
)

// Escape makes a string safe to print on a terminal or in Markdown: control
// characters (ESC sequences could erase the lines above an approval prompt)
// and bidirectional overrides (which reorder what a reviewer reads) are
// written as Go escapes. Newlines are kept only where multiline is true.
func Escape(s string, multiline bool) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return hidden(r, multiline) }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if hidden(r, multiline) {
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func hidden(r rune, multiline bool) bool {
	switch {
	case r == '\n':
		return !multiline
	case r == '\t':
		return false
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return unicode.IsControl(r) || r == unicode.ReplacementChar
}

// fence is a Markdown code fence longer than any run of backticks in s, so
// that no content can close it.
func fence(s string) string {
	return strings.Repeat("`", max(3, longestBackticks(s)+1))
}

// longestBackticks is the longest run of backticks in s.
func longestBackticks(s string) int {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}

// markdownText escapes what Markdown or GitHub's HTML would read as more
// than text: tags and comments (a server's "404 x</summary></details><!--"
// would end the comment's folded block and hide the rest), links and
// images (a tracking pixel), code spans, emphasis, table cells, mentions.
var markdownText = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", "@", "&#64;",
	"[", `\[`, "]", `\]`, "!", `\!`, "`", "\\`", "*", `\*`, "|", `\|`, "\\", `\\`,
)

// MarkdownText is s as plain text inside Markdown: control characters
// escaped (Escape) and every character Markdown or HTML would act on made
// literal. Newlines are kept out: a warning is one list item.
func MarkdownText(s string) string {
	return markdownText.Replace(Escape(s, false))
}
