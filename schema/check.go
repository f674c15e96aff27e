package schema

import "github.com/hashicorp/hcl/v2"

// What a kind's validation uses of the language: diagnostics at a range,
// and the grammars of the positions that land in a server's files (see
// grammar.go).

// ErrAt is an error diagnostic about the source at rng.
func ErrAt(rng hcl.Range, summary, detail string) *hcl.Diagnostic { return errAt(rng, summary, detail) }

// Append appends d to diags when there is one.
func Append(diags hcl.Diagnostics, d *hcl.Diagnostic) hcl.Diagnostics { return appendNonNil(diags, d) }

// CheckPath checks a path as configured and as the host sees it.
func (c *Config) CheckPath(rng hcl.Range, attr, v string) *hcl.Diagnostic {
	return c.checkPath(rng, attr, v)
}

// CheckHostname checks a host name: wildcard allows a leading "*.",
// service underscore labels ("_25._tcp"), as DNS owner names have them.
func CheckHostname(rng hcl.Range, attr, v string, wildcard, service bool) *hcl.Diagnostic {
	return checkHostname(rng, attr, v, wildcard, service)
}

// CheckDebWords checks entries of a deb822 word-list field (Suites,
// Components).
func CheckDebWords(rng hcl.Range, attr string, vs []string) hcl.Diagnostics {
	return debWordGrammar.checkAll(rng, attr, vs)
}

// CheckURIs checks URIs written as words of a deb822 field.
func CheckURIs(rng hcl.Range, attr string, vs []string) hcl.Diagnostics {
	return uriGrammar.checkAll(rng, attr, vs)
}

// CheckCiphers checks an OpenSSL cipher string.
func CheckCiphers(rng hcl.Range, attr, v string) *hcl.Diagnostic {
	return cipherGrammar.check(rng, attr, v)
}

// FileName is a block's name fit for a default file name: www-mx1 for
// the instance www["mx1"].
func FileName(name string) string { return fileName(name) }

// CheckToken checks a token a CA hands out (a profile name, an EAB key
// id): it travels in JSON and is shown in plans, never in a server file.
func CheckToken(rng hcl.Range, attr, v string) *hcl.Diagnostic {
	return tokenGrammar.check(rng, attr, v)
}

// HostOf is the host a block names (its reference to a host block); the
// zero Ref for the machine trustform runs on.
func (c *Config) HostOf(a Address) Ref {
	if r, ok := c.blocks[a].(Referrer); ok {
		for _, ref := range r.References() {
			if len(ref.Types) == 1 && ref.Types[0] == "host" {
				return *ref.To
			}
		}
	}
	return Ref{}
}

// HostName names a host reference in a message.
func HostName(r Ref) string { return hostName(r) }
