package main

import "embed"

// The configurations the end-to-end tests run, in testdata/fixtures: each a
// format string (fmt) that a test fills with its lab's addresses and
// paths, so that an HCL file reads as HCL and is not pasted into Go.
//
//go:embed testdata/fixtures/*.hcl.tmpl
var fixtures embed.FS

// fixture is the configuration template testdata/fixtures/name.
func fixture(name string) string {
	b, err := fixtures.ReadFile("testdata/fixtures/" + name)
	if err != nil {
		panic(err) // embedded: a missing file is a broken build
	}
	return string(b)
}
