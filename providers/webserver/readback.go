package webserver

import (
	"strings"
)

// Reading back what a vhost file says, hand edits included, takes the
// file's own grammar: a value may be double-quoted, single-quoted or bare,
// with backslash escapes, and a directive may sit in any block. No
// well-kept Go library parses nginx or Apache configuration, so the two
// tokenizers below are written by hand, after nginx's ngx_conf_read_token
// and httpd's ap_getword_conf; they only read, never write.

// directive is one directive with its arguments unquoted, and the
// directives of the blocks it is in (innermost last), e.g. a root inside
// "location ^~ /.well-known/acme-challenge/".
type directive struct {
	name string
	args []string
	in   []directive
}

// within reports whether d is inside a block named name.
func (d directive) within(name string) (directive, bool) {
	for i := len(d.in) - 1; i >= 0; i-- {
		if strings.EqualFold(d.in[i].name, name) {
			return d.in[i], true
		}
	}
	return directive{}, false
}

// nginxDirectives tokenizes an nginx configuration.
func nginxDirectives(src string) []directive {
	var out, stack []directive
	var words []string
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == ';' || c == '{':
			if len(words) > 0 {
				// The stack's array is never written once a directive holds
				// it: a block is pushed onto a fresh copy (clipped append).
				d := directive{name: words[0], args: words[1:], in: stack}
				out = append(out, d)
				if c == '{' {
					stack = append(stack[:len(stack):len(stack)], d)
				}
			}
			words = nil
			i++
		case c == '}':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			words = nil
			i++
		case c == '"' || c == '\'':
			w, n := quoted(src[i:], c)
			words = append(words, w)
			i += n
		default:
			start := i
			for i < len(src) && !nginxBreak(src[i]) {
				if src[i] == '$' && i+1 < len(src) && src[i+1] == '{' { // ${var} is part of a word
					if end := strings.IndexByte(src[i:], '}'); end > 0 {
						i += end
					}
				} else if src[i] == '\\' && i+1 < len(src) {
					i++
				}
				i++
			}
			words = append(words, unescape(src[start:i], 0))
		}
	}
	return out
}

// nginxBreak reports whether c ends a bare word.
func nginxBreak(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ';', '{', '}':
		return true
	}
	return false
}

// apacheDirectives tokenizes an httpd configuration: one directive per
// line (a backslash at the end continues it), sections as "<Name" with
// their arguments ("</Name>" closes them).
func apacheDirectives(src string) []directive {
	var out, stack []directive
	for _, line := range strings.Split(strings.ReplaceAll(src, "\\\n", " "), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if strings.HasPrefix(line, "</") {
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		section := line[0] == '<'
		if section {
			line = strings.TrimSuffix(line, ">")
		}
		var words []string
		for i := 0; i < len(line); {
			switch c := line[i]; {
			case c == ' ' || c == '\t':
				i++
			case c == '"' || c == '\'':
				w, n := quoted(line[i:], c)
				words = append(words, w)
				i += n
			default:
				start := i
				for i < len(line) && line[i] != ' ' && line[i] != '\t' {
					i++
				}
				words = append(words, line[start:i])
			}
		}
		d := directive{name: words[0], args: words[1:], in: append([]directive(nil), stack...)}
		out = append(out, d)
		if section {
			stack = append(stack, d)
		}
	}
	return out
}

// quoted reads the quoted word at the start of s (s[0] is the quote) and
// returns it unescaped with the bytes it took; an unclosed quote runs to
// the end.
func quoted(s string, q byte) (string, int) {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case q:
			return unescape(s[1:i], q), i + 1
		}
	}
	return unescape(s[1:], q), len(s)
}

// unescape drops the backslash before an escaped quote or backslash (and,
// for a bare nginx word, before any byte).
func unescape(s string, q byte) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (q == 0 || s[i+1] == q || s[i+1] == '\\') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// challengeDir is the webroot whose .well-known/acme-challenge/ a
// directory serves: dir itself for a root, dir less that suffix for an
// alias of the challenge path.
func challengeDir(dir string, alias bool) string {
	dir = strings.TrimSuffix(dir, "/")
	if alias {
		dir = strings.TrimSuffix(dir, "/.well-known/acme-challenge")
	}
	return dir
}

// isRedirect reports whether an nginx return code redirects.
func isRedirect(code string) bool {
	switch code {
	case "301", "302", "303", "307", "308":
		return true
	}
	return false
}

// firstOf keeps the first value a file gives.
func firstOf(have, v string) string {
	if have != "" {
		return have
	}
	return strings.TrimSpace(v)
}
