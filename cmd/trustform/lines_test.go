package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// writes records each write it is given.
type writes struct{ got []string }

func (w *writes) Write(p []byte) (int, error) { w.got = append(w.got, string(p)); return len(p), nil }

// A plan reaches the redactor in whole lines, so that a secret is hidden
// wherever the 64 KiB chunks fall, and in few writes.
func TestLineWriterPassesWholeLines(t *testing.T) {
	const secret = "s3cr3t-value-of-a-sensitive-variable"
	var want bytes.Buffer
	rec := &writes{}
	l := &lineWriter{w: &redactor{w: rec, secrets: []string{secret}}}
	for i := range 20000 {
		line := fmt.Sprintf("      ~ attribute_%d = %q\n", i, secret)
		want.WriteString(strings.ReplaceAll(line, secret, "(sensitive)"))
		for _, part := range []string{line[:9], line[9:20], line[20:]} { // as fmt writes pieces
			l.Write([]byte(part))
		}
	}
	l.Write([]byte("no newline at the end " + secret))
	want.WriteString("no newline at the end (sensitive)")
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rec.got, ""); got != want.String() {
		t.Fatalf("the output differs from what was written (%d bytes, want %d)", len(got), want.Len())
	}
	for i, w := range rec.got[:len(rec.got)-1] {
		if !strings.HasSuffix(w, "\n") {
			t.Errorf("write %d does not end a line: …%q", i, w[max(0, len(w)-20):])
		}
	}
	if n := len(rec.got); n > 30 {
		t.Errorf("%d writes for 20,000 lines, want a write per 64 KiB", n)
	}
}
