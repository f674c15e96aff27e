package main

import (
	"bytes"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// HCL's diagnostic writer finds the lines it quotes by scanning the whole
// file, grapheme cluster by grapheme cluster, for every diagnostic: a third
// of a second per warning in a 10,000-block file. snippet hands it instead
// a file holding only those lines, behind as many empty lines as came
// before them, with the diagnostic's ranges moved to match; the writer
// prints the same text. (HCL has no option for this, hence by hand.)

// snippet returns the file and diagnostic to give HCL's writer for d.
func snippet(files map[string]*hcl.File, d *hcl.Diagnostic) (map[string]*hcl.File, *hcl.Diagnostic) {
	if d.Subject == nil || (d.Context != nil && d.Context.Filename != d.Subject.Filename) {
		return files, d
	}
	f := files[d.Subject.Filename]
	start, end := d.Subject.Start, d.Subject.End
	if c := d.Context; c != nil {
		if c.Start.Byte < start.Byte {
			start = c.Start
		}
		if c.End.Byte > end.Byte {
			end = c.End
		}
	}
	if f == nil || f.Bytes == nil || start.Line < 1 || end.Byte > len(f.Bytes) || start.Byte > end.Byte {
		return files, d
	}
	src := f.Bytes
	from := bytes.LastIndexByte(src[:start.Byte], '\n') + 1 // the first quoted line
	to := len(src)
	if i := bytes.IndexByte(src[end.Byte:], '\n'); i >= 0 {
		to = end.Byte + i + 1
	}
	lines := append([]byte(strings.Repeat("\n", start.Line-1)), src[from:to]...)
	shift := (start.Line - 1) - from
	moved := func(r *hcl.Range) *hcl.Range {
		if r == nil {
			return nil
		}
		m := *r
		m.Start.Byte += shift
		m.End.Byte += shift
		return &m
	}
	out := *d
	out.Subject, out.Context = moved(d.Subject), moved(d.Context)
	trimmed := &hcl.File{Bytes: lines, Body: f.Body, Nav: shiftedNav{f.Nav, -shift}}
	return map[string]*hcl.File{d.Subject.Filename: trimmed}, &out
}

// shiftedNav answers HCL's "in BLOCK" context for the trimmed file from
// the whole file's navigation.
type shiftedNav struct {
	nav   any
	shift int
}

func (n shiftedNav) ContextString(offset int) string {
	if cs, ok := n.nav.(interface{ ContextString(int) string }); ok {
		return cs.ContextString(offset + n.shift)
	}
	return ""
}
