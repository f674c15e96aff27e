package main

import (
	"io"

	"github.com/trustform/trustform/schema"
)

// redactor writes through to w with the values of sensitive variables
// replaced by "(sensitive)": diagnostics, plans, Markdown and progress
// lines may quote a value, and none of them may show a secret. The
// secrets are known once the configuration is loaded (common.load).
type redactor struct {
	w       io.Writer
	secrets []string
}

func (r *redactor) Write(p []byte) (int, error) {
	if len(r.secrets) == 0 {
		return r.w.Write(p)
	}
	if _, err := io.WriteString(r.w, schema.Hide(r.secrets, string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
