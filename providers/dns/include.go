package dns

import (
	"bytes"
	"strings"
)

// keptDirectives takes the $INCLUDE and $GENERATE lines out of a master
// file and returns the rest, line numbers kept, and each directive as lines
// that mean the same at the end of the file: with the $ORIGIN and $TTL in
// force where it stood. BIND zones pull their DNSSEC keys in with $INCLUDE;
// reverse zones use $GENERATE. trustform reads neither what an include
// names (not its records, and a path could name any file) nor what a
// $GENERATE expands to (up to 65,536 records per line), and writes both
// back as they were.
func keptDirectives(b []byte, origin string) ([]byte, []string) {
	if !bytes.Contains(b, []byte("$INCLUDE")) && !bytes.Contains(b, []byte("$GENERATE")) {
		return b, nil
	}
	lines := strings.SplitAfter(string(b), "\n")
	var kept []string
	ttl := ""
	for i, l := range lines {
		f := strings.Fields(strings.SplitN(l, ";", 2)[0])
		if len(f) == 0 || l[0] != '$' {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "$ORIGIN":
			if len(f) == 2 {
				origin = absolute(f[1], origin)
			}
		case "$TTL":
			if len(f) == 2 {
				ttl = f[1]
			}
		case "$INCLUDE", "$GENERATE":
			d := "$ORIGIN " + origin + "\n"
			if ttl != "" {
				d += "$TTL " + ttl + "\n"
			}
			kept = append(kept, d+strings.TrimRight(l, "\r\n"))
			lines[i] = "\n"
		}
	}
	return []byte(strings.Join(lines, "")), kept
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
