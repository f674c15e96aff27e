package dns

import (
	"bytes"
	"strings"
)

// splitIncludes takes the $INCLUDE lines out of a master file and returns
// the rest, line numbers kept, and each include as a line that means the
// same at the end of the file: with the $ORIGIN and $TTL in force where it
// stood. BIND zones pull their DNSSEC keys in this way. trustform neither
// reads the included files (they are not its records, and a path could name
// any file) nor drops them: they are written back as they were.
func splitIncludes(b []byte, origin string) ([]byte, []string) {
	if !bytes.Contains(b, []byte("$INCLUDE")) {
		return b, nil
	}
	lines := strings.SplitAfter(string(b), "\n")
	var includes []string
	ttl := ""
	for i, l := range lines {
		f := strings.Fields(strings.SplitN(l, ";", 2)[0])
		switch {
		case len(f) == 2 && strings.EqualFold(f[0], "$ORIGIN"):
			origin = absolute(f[1], origin)
		case len(f) == 2 && strings.EqualFold(f[0], "$TTL"):
			ttl = f[1]
		case len(f) >= 2 && strings.EqualFold(f[0], "$INCLUDE") && l[0] == '$':
			inc := "$INCLUDE " + f[1] + " " + origin
			if len(f) >= 3 {
				inc = "$INCLUDE " + f[1] + " " + absolute(f[2], origin)
			}
			if ttl != "" {
				inc = "$TTL " + ttl + "\n" + inc
			}
			includes = append(includes, inc)
			lines[i] = "\n"
		}
	}
	return []byte(strings.Join(lines, "")), includes
}

// absolute qualifies a name relative to origin.
func absolute(name, origin string) string {
	switch {
	case name == "@":
		return origin
	case strings.HasSuffix(name, "."):
		return name
	}
	return name + "." + origin
}
