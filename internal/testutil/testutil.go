// Package testutil holds helpers shared by tests: copying an example into a
// temp directory, and comparing output with golden files (-update rewrites them).
package testutil

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

var update = flag.Bool("update", false, "rewrite golden files with the current output")

// CopyDir copies the example at src into a fresh temp dir, leaving out what
// running it leaves behind (out/, .trustform/).
func CopyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() && (rel == "out" || rel == ".trustform") {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

var (
	hexRe  = regexp.MustCompile(`\b[0-9a-f]{64}\b`)
	timeRe = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
	durRe  = regexp.MustCompile(`\(in \d+[hms0-9.]*\)`)
	// serialRe: a certificate's serial, random, as plans name it.
	serialRe = regexp.MustCompile(`\bcertificate [0-9A-F]{16,40}\b`)
)

// Normalize replaces what differs between runs (the temp dir, key hashes,
// times) with stable placeholders, so golden files stay meaningful.
func Normalize(s, dir string) string {
	if dir != "" {
		s = strings.ReplaceAll(s, dir, "$DIR")
	}
	s = hexRe.ReplaceAllString(s, "<sha256>")
	s = timeRe.ReplaceAllString(s, "<time>")
	s = serialRe.ReplaceAllString(s, "certificate <serial>")
	return durRe.ReplaceAllString(s, "(in <duration>)")
}

// Golden compares got with testdata/NAME.golden, or rewrites it with -update.
func Golden(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (run go test -update if the change is intended)\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// Diagnostics prints diags as the CLI does (file:line:column, snippet), for
// golden files.
func Diagnostics(files map[string]*hcl.File, diags hcl.Diagnostics) string {
	var buf bytes.Buffer
	hcl.NewDiagnosticTextWriter(&buf, files, 100, false).WriteDiagnostics(diags)
	return buf.String()
}
