package apt

import (
	"reflect"
	"testing"
)

// The readers find each repository apt-get would read, with its line, its
// Signed-By and Trusted, whatever the layout sources.list(5) allows.
func TestSourceFileReaders(t *testing.T) {
	type got struct {
		Line           int
		URI, Suite, By string
		Trusted        bool
	}
	for _, tc := range []struct {
		name, file, content string
		want                []got
	}{
		{"one-line, options", "a.list",
			"# comment\ndeb [arch=amd64 signed-by=/k.gpg] https://r.test/debian stable main\n",
			[]got{{2, "https://r.test/debian", "stable", "/k.gpg", false}}},
		{"one-line, spaced options and trusted", "a.list",
			"deb [ trusted=yes ] http://r.test/ stable main # trailing comment\n",
			[]got{{1, "http://r.test/", "stable", "", true}}},
		{"one-line, deb-src, commented and broken lines", "a.list",
			"#deb http://r.test/ old main\ndeb-src http://r.test/ stable main\ndeb [signed-by=/k.gpg http://r.test/ x\nrpm http://r.test/ x\n",
			[]got{{2, "http://r.test/", "stable", "", false}}},
		{"deb822, two stanzas, several suites", "a.sources",
			"Types: deb\nURIs: https://r.test/debian\nSuites: stable stable-updates\nComponents: main\nSigned-By: /k.gpg\n\n# off\nTypes: deb\nURIs: https://o.test/\nSuites: x\nEnabled: no\n",
			[]got{{1, "https://r.test/debian", "stable", "/k.gpg", false}, {1, "https://r.test/debian", "stable-updates", "/k.gpg", false}}},
		{"deb822, inline key, comments inside, case", "a.sources",
			"\n\ntypes: deb\n# a comment\nuris: https://r.test/\nsuites: stable\nsigned-by:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n -----END PGP PUBLIC KEY BLOCK-----\ntrusted: Yes\n",
			[]got{{3, "https://r.test/", "stable", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n.\n-----END PGP PUBLIC KEY BLOCK-----", true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var entries []entry
			if tc.file == "a.list" {
				entries = parseList(tc.file, tc.content)
			} else {
				entries = parseSources(tc.file, tc.content)
			}
			var g []got
			for _, e := range entries {
				g = append(g, got{e.Line, e.URI, e.Suite, e.SignedBy, e.Trusted})
			}
			if !reflect.DeepEqual(g, tc.want) {
				t.Errorf("read\n%+v\nwant\n%+v", g, tc.want)
			}
		})
	}
}

// apt matches a repository by its URI with a trailing slash and its suite.
func TestRepoKey(t *testing.T) {
	if repoKey("https://r.test/debian", "stable") != repoKey("https://r.test/debian/", "stable") {
		t.Error("a trailing slash makes another repository")
	}
	if repoKey("https://r.test/debian", "stable") == repoKey("https://r.test/debian", "testing") {
		t.Error("suites are not told apart")
	}
}
