package schema

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/hashicorp/hcl/v2"
)

// The values below land in files that servers load as root: nginx and
// Apache configurations, deb822 sources, zone files. A value is data only
// when it fits the position it is written to; one with a separator of that
// grammar (";", "{", a newline, a quote) would become a directive. So each
// is held to an allow-list of what the position needs, and anything else is
// a diagnostic on the attribute, never escaped into something that might
// mean more.

// grammar is one position of a managed file and the characters it allows.
type grammar struct {
	what  string // "a path", "a host name", …
	allow func(r rune) bool
	rules string // said in the diagnostic
}

var (
	// pathGrammar: paths are written bare into nginx and Apache directives,
	// so no whitespace, quote, ";", "{}", "#", "$", "%" or backslash.
	pathGrammar = grammar{"a path", func(r rune) bool {
		return unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("/._-+@,=~:", r)
	}, "letters, digits and / . _ - + @ , = ~ :"}
	// cipherGrammar is OpenSSL's cipher-string alphabet.
	cipherGrammar = grammar{"an OpenSSL cipher string", func(r rune) bool {
		return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_-+:!@=.", r))
	}, "ASCII letters, digits and _ - + : ! @ = ."}
	// debWordGrammar is one entry of a deb822 word-list field (Suites,
	// Components): no whitespace, which separates entries, and no newline,
	// which would start a new field.
	debWordGrammar = grammar{"a deb822 word", func(r rune) bool {
		return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._+~/-", r))
	}, "ASCII letters, digits and . _ + ~ / -"}
	// uriGrammar: an APT URI is one word of a deb822 field.
	uriGrammar = grammar{"a URI", func(r rune) bool {
		return r > ' ' && r < unicode.MaxASCII && !strings.ContainsRune(`"'<>\{}|^`+"`", r)
	}, "printable ASCII without spaces, quotes, < > \\ { } | ^ or `"}
)

// tokenGrammar: a profile name and an EAB key id are tokens the CA hands
// out; they travel in JSON and are shown in plans, never in a server file.
var tokenGrammar = grammar{"a token", func(r rune) bool {
	return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-:+/=", r))
}, "ASCII letters, digits and . _ - : + / ="}

// check returns a diagnostic when v has a character the grammar does not
// allow, naming the first one (quoted, so a newline shows as \n).
func (g grammar) check(rng hcl.Range, attr, v string) *hcl.Diagnostic {
	if v == "" {
		return errAt(rng, "Empty "+attr, fmt.Sprintf("%s must be %s, not empty.", attr, g.what))
	}
	for _, r := range v {
		if !g.allow(r) {
			return errAt(rng, "Invalid character in "+attr,
				fmt.Sprintf("%s must be %s of %s; %q has %q. The value is written into a file that a server reads, where that character could end the value and start a directive.", attr, g.what, g.rules, v, r))
		}
	}
	return nil
}

// checkAll checks every element of a list attribute.
func (g grammar) checkAll(rng hcl.Range, attr string, vs []string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, v := range vs {
		if d := g.check(rng, attr, v); d != nil {
			diags = append(diags, d)
		}
	}
	return diags
}

// checkHostname accepts a host name of LDH labels (RFC 952/1123), with a
// leading "*." where wildcard is true; underscore labels ("_25._tcp") where
// service is true, as DNS owner names have them.
func checkHostname(rng hcl.Range, attr, v string, wildcard, service bool) *hcl.Diagnostic {
	name := strings.TrimSuffix(v, ".")
	if wildcard {
		name = strings.TrimPrefix(name, "*.")
	}
	bad := name == "" || len(name) > 253
	for _, l := range strings.Split(name, ".") {
		if bad || l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			bad = true
			break
		}
		for i, r := range l {
			ok := r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || (service && r == '_' && i == 0))
			if !ok {
				bad = true
				break
			}
		}
	}
	if !bad {
		return nil
	}
	kind := "a host name"
	if wildcard {
		kind += ` (optionally starting with "*.")`
	}
	return errAt(rng, "Invalid name in "+attr,
		fmt.Sprintf("%s must be %s: labels of ASCII letters, digits and inner hyphens, up to 63 characters each, separated by dots; got %q.", attr, kind, v))
}

// checkLabel: block labels are identifiers, as in Terraform. They land in
// addresses, file headers and state keys, where a dot, newline or backtick
// would change what the line means.
func checkLabel(rng hcl.Range, addr Address) *hcl.Diagnostic {
	base, key, inst := SplitInstance(addr.Name)
	if ValidIdentifier(base) && (!inst || instanceKey.MatchString(key)) {
		return nil
	}
	return errAt(rng, "Invalid "+addr.Type+" name",
		fmt.Sprintf("%q is not a valid name: a name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes.", addr.Name))
}

// checkPath checks a path as configured and as the host sees it: a relative
// path brings in the configuration directory's own.
func (c *Config) checkPath(rng hcl.Range, attr, v string) *hcl.Diagnostic {
	if v == "" {
		return nil
	}
	if d := pathGrammar.check(rng, attr, v); d != nil {
		return d
	}
	for _, part := range strings.Split(v, "/") {
		if part == ".." {
			return errAt(rng, "Path leaves its directory", fmt.Sprintf("%s %q has a \"..\" component; write the path without it, so that it stays under the host's root and the configuration directory.", attr, v))
		}
	}
	if t := c.Target(v); t != v {
		if d := pathGrammar.check(rng, attr, t); d != nil {
			d.Detail = fmt.Sprintf("%s is relative, so the server reads it as %q, which has a character outside %s. Use an absolute path, or move the configuration to a directory whose path has none.", attr, t, pathGrammar.rules)
			return d
		}
	}
	return nil
}
