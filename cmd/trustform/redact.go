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

// planOut is where plans are printed: stdout without the redactor. The
// engine hides each resource's sensitive texts in its own values, reasons
// and steps, and the command the diagnostics' (schema.Config.SensitiveOf):
// masking the whole stream too would hide an ordinary word wherever it
// appears because a sensitive value elsewhere is that word.
func planOut(e env) io.Writer {
	if r, ok := e.stdout.(*redactor); ok {
		return r.w
	}
	return e.stdout
}
