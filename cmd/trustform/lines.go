package main

import (
	"bytes"
	"io"

	"github.com/trustform/trustform/engine/plan"
)

// lineWriter passes what is written on to w in whole lines, up to 64 KiB
// at a time, and the rest on Flush. A plan is written line by line: one
// system call per line made 182,000 for 10,000 resources. Whole lines,
// because the redactor must see a line whole to hide a secret in it.
type lineWriter struct {
	w   io.Writer
	buf []byte
	err error
}

const lineChunk = 64 << 10

func (l *lineWriter) Write(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	l.buf = append(l.buf, p...)
	if len(l.buf) >= lineChunk {
		if i := bytes.LastIndexByte(l.buf, '\n'); i >= 0 {
			_, l.err = l.w.Write(l.buf[:i+1])
			l.buf = append(l.buf[:0], l.buf[i+1:]...)
		}
	}
	return len(p), l.err
}

// Flush writes what is left.
func (l *lineWriter) Flush() error {
	if l.err == nil && len(l.buf) > 0 {
		_, l.err = l.w.Write(l.buf)
		l.buf = l.buf[:0]
	}
	return l.err
}

// writeText prints a plan for a terminal (plan.WriteText), in whole lines.
func writeText(e env, c *common, p *plan.Plan) {
	l := &lineWriter{w: planOut(e)}
	plan.WriteText(l, p, plan.TextOptions{Color: c.color(e)})
	l.Flush()
}

// writeMarkdown prints a plan as a pull-request comment (plan.WriteMarkdown),
// in whole lines.
func writeMarkdown(e env, p *plan.Plan) error {
	l := &lineWriter{w: planOut(e)}
	if err := plan.WriteMarkdown(l, p); err != nil {
		return err
	}
	return l.Flush()
}
