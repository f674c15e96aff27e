package main

import (
	"bytes"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/plan"
)

// uiDiagnostic is a diagnostic as Terraform's JSON shows it (validate
// -json and the -json stream): the plan's diagnostic, with the address it
// is about and the source it quotes.
type uiDiagnostic struct {
	plan.Diagnostic
	Address string     `json:"address,omitempty"`
	Snippet *uiSnippet `json:"snippet,omitempty"`
}

// uiSnippet is the quoted source: the lines of the subject, from
// start_line, the subject's bytes within code, and the block it is in.
type uiSnippet struct {
	Context              *string `json:"context"`
	Code                 string  `json:"code"`
	StartLine            int     `json:"start_line"`
	HighlightStartOffset int     `json:"highlight_start_offset"`
	HighlightEndOffset   int     `json:"highlight_end_offset"`
	Values               []any   `json:"values"`
}

// jsonDiagnostic is d with the snippet of its file in files (none when the
// file is not there: a diagnostic about a server, not a line).
func jsonDiagnostic(files map[string]*hcl.File, d *hcl.Diagnostic) uiDiagnostic {
	out := uiDiagnostic{Diagnostic: plan.Diagnostics(hcl.Diagnostics{d})[0]}
	if addr, _, ok := strings.Cut(d.Summary, ": "); ok && strings.Contains(addr, ".") && !strings.ContainsAny(addr, " \t") {
		out.Address = addr
	}
	r := d.Subject
	if r == nil || files[r.Filename] == nil {
		return out
	}
	f := files[r.Filename]
	src := f.Bytes
	if r.Start.Byte < 0 || r.Start.Byte > r.End.Byte || r.End.Byte > len(src) {
		return out
	}
	from := bytes.LastIndexByte(src[:r.Start.Byte], '\n') + 1
	to := len(src)
	if i := bytes.IndexByte(src[r.End.Byte:], '\n'); i >= 0 {
		to = r.End.Byte + i
	}
	sn := &uiSnippet{Code: string(src[from:to]), StartLine: r.Start.Line, Values: []any{},
		HighlightStartOffset: r.Start.Byte - from, HighlightEndOffset: r.End.Byte - from}
	if cs, ok := f.Nav.(interface{ ContextString(int) string }); ok {
		if c := cs.ContextString(r.Start.Byte); c != "" {
			sn.Context = &c
		}
	}
	out.Snippet = sn
	return out
}
