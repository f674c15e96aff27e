package providers

import "strings"

// Serves reports whether a site or certificate with names answers for
// name (with one-label wildcards).
func Serves(names []string, name string) bool {
	for _, n := range names {
		if MatchName(n, name) {
			return true
		}
	}
	return false
}

// MatchName reports whether a name pattern ("www.example.test",
// "*.example.test") matches name, case-insensitively.
func MatchName(pattern, name string) bool {
	pattern, name = strings.ToLower(pattern), strings.ToLower(name)
	if pattern == name {
		return true
	}
	if rest, ok := strings.CutPrefix(pattern, "*."); ok {
		_, parent, found := strings.Cut(name, ".")
		return found && parent == rest
	}
	return false
}
