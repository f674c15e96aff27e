package apt

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
)

// apt-get reads every sources.list, *.list and *.sources file as one list,
// and merges the entries of one repository (URI and suite) into one
// index: two that disagree on Signed-By or Trusted make `apt-get update`
// fail ("Conflicting values set for option Signed-By"), and one with
// trusted=yes switches signature checking off for the repository. No
// well-kept Go library reads both formats with line numbers, so the two
// readers below are written by hand after sources.list(5); they only read.

// entry is one repository as a sources file names it: a line of the
// one-line format, or one URI and suite of a deb822 stanza.
type entry struct {
	File     string // path on this machine
	Line     int    // 1-based: the line, or the stanza's first line
	URI      string
	Suite    string
	SignedBy string // as written; "" when none
	Trusted  bool
	Stanza   bool     // deb822: disabled with "Enabled: no"
	Pairs    []string // every "URI suite" the line or stanza names
	// Type ("deb", "deb-src") and Components, for an import.
	Type       string
	Components []string
}

// key is how apt matches entries: the URI with its trailing slash, and the
// suite.
func repoKey(uri, suite string) string {
	return strings.TrimSuffix(uri, "/") + "/ " + suite
}

// parseList reads the one-line format: "deb [opt=v …] URI suite comp…",
// comments from '#' to the end of the line.
func parseList(file, content string) []entry {
	var out []entry
	for i, line := range strings.Split(content, "\n") {
		if c := strings.IndexByte(line, '#'); c >= 0 {
			line = line[:c]
		}
		f := strings.Fields(line)
		if len(f) < 3 || (f[0] != "deb" && f[0] != "deb-src") {
			continue
		}
		e := entry{File: file, Line: i + 1, Type: f[0]}
		f = f[1:]
		if strings.HasPrefix(f[0], "[") {
			opts := strings.Join(f, " ")
			end := strings.IndexByte(opts, ']')
			if end < 0 {
				continue // apt-get refuses the line itself
			}
			for _, o := range strings.Fields(opts[1:end]) {
				k, v, _ := strings.Cut(o, "=")
				switch strings.ToLower(k) {
				case "signed-by":
					e.SignedBy = v
				case "trusted":
					e.Trusted = isYes(v)
				}
			}
			f = strings.Fields(opts[end+1:])
		}
		if len(f) < 2 {
			continue
		}
		e.URI, e.Suite, e.Components = f[0], f[1], f[2:]
		e.Pairs = []string{repoKey(e.URI, e.Suite)}
		out = append(out, e)
	}
	return out
}

// parseSources reads deb822 stanzas: "Field: value" lines, continuation
// lines starting with a space, stanzas separated by blank lines, '#' lines
// ignored.
func parseSources(file, content string) []entry {
	var out []entry
	fields, start, last := map[string]string{}, 0, ""
	flush := func() {
		if len(fields) > 0 && !strings.EqualFold(fields["enabled"], "no") {
			var pairs []string
			for _, u := range strings.Fields(fields["uris"]) {
				for _, s := range strings.Fields(fields["suites"]) {
					pairs = append(pairs, repoKey(u, s))
				}
			}
			for _, u := range strings.Fields(fields["uris"]) {
				for _, s := range strings.Fields(fields["suites"]) {
					out = append(out, entry{File: file, Line: start, URI: u, Suite: s, Stanza: true, Pairs: pairs,
						SignedBy: strings.TrimSpace(fields["signed-by"]), Trusted: isYes(fields["trusted"]),
						Type: strings.Fields(fields["types"] + " deb")[0], Components: strings.Fields(fields["components"])})
				}
			}
		}
		fields, last = map[string]string{}, ""
	}
	for i, line := range strings.Split(content, "\n") {
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.TrimSpace(line) == "":
			flush()
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				fields[last] += "\n" + strings.TrimSpace(line)
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			if len(fields) == 0 {
				start = i + 1
			}
			last = strings.ToLower(strings.TrimSpace(k))
			fields[last] = strings.TrimSpace(v)
		}
	}
	flush()
	return out
}

func isYes(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "true", "with", "on", "enable":
		return true
	}
	return false
}

// conflict is an entry of another file for a managed repository that
// apt-get cannot reconcile with the managed source.
type conflict struct {
	entry
	target string // the file's path on the host, for messages
	why    string
}

// findConflicts lists the entries, in files other than the source's own, that
// name one of its repositories with another Signed-By, none, or
// trusted=yes.
func (s *Source) findConflicts() ([]conflict, error) {
	dir := filepath.Dir(s.Path)
	var files []string
	if filepath.Base(dir) == "sources.list.d" {
		files = append(files, filepath.Join(filepath.Dir(dir), "sources.list"))
	}
	for _, pattern := range []string{"*.list", "*.sources"} {
		m, err := s.Host.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, err
		}
		files = append(files, m...)
	}
	slices.Sort(files[min(1, len(files)):])
	ours := s.repos()
	var out []conflict
	for _, f := range files {
		if f == s.Path {
			continue
		}
		b, err := s.Host.ReadFile(f)
		if err != nil {
			return nil, err
		}
		entries := parseList(f, string(b))
		if strings.HasSuffix(f, ".sources") {
			entries = parseSources(f, string(b))
		}
		target := filepath.Join(filepath.Dir(s.File), filepath.Base(f))
		if filepath.Base(f) == "sources.list" {
			target = filepath.Join(filepath.Dir(filepath.Dir(s.File)), "sources.list")
		}
		for _, e := range entries {
			if !ours[repoKey(e.URI, e.Suite)] {
				continue
			}
			var why string
			switch {
			case e.Trusted:
				why = "trusted=yes, which switches signature checking off for the repository"
			case e.SignedBy == "":
				why = "no Signed-By (apt-get update fails with \"Conflicting values set for option Signed-By\", or trusts every global key)"
			case e.SignedBy != s.SignedBy:
				why = fmt.Sprintf("Signed-By %s (apt-get update fails with \"Conflicting values set for option Signed-By\")", firstLine(e.SignedBy))
			default:
				continue
			}
			out = append(out, conflict{entry: e, target: target, why: why})
		}
	}
	return out, nil
}

func firstLine(s string) string {
	if l, _, more := strings.Cut(s, "\n"); more {
		return l + " …"
	}
	return s
}

// where names the conflict for a reader: file:line.
func (c conflict) where() string { return fmt.Sprintf("%s:%d", c.target, c.Line) }

// repos are the source's repositories, as apt matches them.
func (s *Source) repos() map[string]bool {
	ours := map[string]bool{}
	for _, u := range s.URIs {
		for _, su := range s.Suites {
			ours[repoKey(u, su)] = true
		}
	}
	return ours
}

// fixable: the whole line or stanza is about the source's repositories,
// so disabling it loses nothing else.
func (s *Source) fixable(c conflict) bool {
	ours := s.repos()
	for _, p := range c.Pairs {
		if !ours[p] {
			return false
		}
	}
	return true
}

// reason says what apt-get makes of a conflict and what apply does.
func (s *Source) reason(c conflict) string {
	r := c.where() + " also lists " + c.URI + " " + c.Suite + " with " + c.why
	if !s.fixable(c) {
		return r + "; it names other repositories too, so apply stops there: remove " + c.URI + " from it by hand"
	}
	if c.Stanza {
		return r + "; apply disables that stanza (Enabled: no)"
	}
	return r + "; apply comments that line out"
}

// disableConflicts turns the conflicting entries off where they are: a
// line is commented out, a stanza gets "Enabled: no". The files are read
// again, so what is disabled is what conflicts now; nothing is written
// unless every conflict can be disabled alone.
func (s *Source) disableConflicts() error {
	cs, err := s.findConflicts()
	if err != nil {
		return err
	}
	byFile := map[string][]conflict{}
	var files []string
	for _, c := range cs {
		if !s.fixable(c) {
			return fmt.Errorf("%s: %s names other repositories too; remove %s %s from it (or give it Signed-By: %s) by hand", s.Address, c.where(), c.URI, c.Suite, s.SignedBy)
		}
		if byFile[c.File] == nil {
			files = append(files, c.File)
		}
		byFile[c.File] = append(byFile[c.File], c)
	}
	for _, f := range files {
		b, err := s.Host.ReadFile(f)
		if err != nil {
			return err
		}
		lines := strings.Split(string(b), "\n")
		cs := byFile[f]
		slices.SortFunc(cs, func(a, b conflict) int { return b.Line - a.Line }) // from the end: insertions keep earlier lines
		for i, c := range cs {
			if i > 0 && cs[i-1].Line == c.Line {
				continue // another repository of the same stanza
			}
			lines = s.disable(lines, c)
		}
		mode := fs.FileMode(0o644)
		if st, err := s.Host.Stat(f); err == nil && st != nil {
			mode = st.Mode().Perm()
		}
		if err := s.Host.WriteFile(f, []byte(strings.Join(lines, "\n")), mode); err != nil {
			return err
		}
	}
	return nil
}

// disable turns one entry off in a file's lines.
func (s *Source) disable(lines []string, c conflict) []string {
	i := c.Line - 1
	if !c.Stanza {
		lines[i] = "# disabled by trustform (" + s.Address + ", conflicts with " + s.File + "): " + lines[i]
		return lines
	}
	for j := i; j < len(lines) && strings.TrimSpace(lines[j]) != ""; j++ {
		if k, _, ok := strings.Cut(lines[j], ":"); ok && strings.EqualFold(strings.TrimSpace(k), "Enabled") {
			lines[j] = "Enabled: no"
			return lines
		}
	}
	note := "# disabled by trustform (" + s.Address + ", conflicts with " + s.File + ")"
	return slices.Insert(lines, i+1, "Enabled: no", note)
}
