package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/plan"
)

// streamTypes are the message types docs/plan-json.md documents.
var streamTypes = []string{"version", "log", "diagnostic", "planned_change", "resource_drift", "change_summary",
	"apply_start", "apply_progress", "apply_complete", "apply_errored", "outputs"}

// streamOf parses stdout line by line as the -json stream, failing on
// anything that is not one documented message per line.
func streamOf(t *testing.T, stdout string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for i, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", i+1, err, line)
		}
		for _, k := range []string{"@level", "@message", "@module", "@timestamp", "type"} {
			if _, ok := m[k].(string); !ok {
				t.Errorf("line %d has no %s: %s", i+1, k, line)
			}
		}
		if !slices.Contains(streamTypes, m["type"].(string)) {
			t.Errorf("line %d has an undocumented type: %s", i+1, line)
		}
		out = append(out, m)
	}
	failed := slices.ContainsFunc(out, func(m map[string]any) bool { return m["@level"] == "error" })
	if len(out) < 2 || out[0]["type"] != "version" || (!failed && out[len(out)-1]["type"] != "outputs") {
		t.Errorf("the stream does not start with version and end with outputs:\n%s", stdout)
	}
	return out
}

func typesOf(ms []map[string]any) map[string]int {
	n := map[string]int{}
	for _, m := range ms {
		n[m["type"].(string)]++
	}
	return n
}

// TestApplyJSONIsOneStream: plan -json and apply -json print Terraform's
// machine-readable UI on stdout, one typed object per line and nothing
// else, and a failed step is apply_errored then an error diagnostic.
func TestApplyJSONIsOneStream(t *testing.T) {
	dir := quickstart(t)
	code, out, errOut := runIn(false, nil, "-chdir="+dir, "plan", "-json")
	if code != 0 || errOut != "" {
		t.Fatalf("plan -json: exit %d, stderr %q", code, errOut)
	}
	planned := streamOf(t, out)
	if n := typesOf(planned); n["planned_change"] == 0 || n["change_summary"] != 1 {
		t.Errorf("plan -json: %v\n%s", n, out)
	}
	for _, m := range planned {
		if m["type"] == "planned_change" && m["@message"] == `certificate.www: Plan to create` {
			r := m["change"].(map[string]any)["resource"].(map[string]any)
			if r["resource_type"] != "certificate" || r["resource_name"] != "www" || m["change"].(map[string]any)["action"] != "create" {
				t.Errorf("planned_change of certificate.www: %v", m)
			}
		}
	}

	code, out, errOut = runIn(false, nil, "-chdir="+dir, "apply", "-json", "-auto-approve")
	if code != 0 {
		t.Fatalf("apply -json: exit %d\n%s\n%s", code, out, errOut)
	}
	applied := streamOf(t, out)
	n := typesOf(applied)
	if n["apply_start"] == 0 || n["apply_complete"] != n["apply_start"] || n["change_summary"] != 2 {
		t.Errorf("apply -json: %v\n%s", n, out)
	}
	last := applied[len(applied)-2]
	if last["type"] != "change_summary" || last["changes"].(map[string]any)["operation"] != "apply" || !strings.HasPrefix(last["@message"].(string), "Apply complete!") {
		t.Errorf("apply -json does not end with the apply's summary: %v", last)
	}

	code, out, _ = runIn(false, nil, "-chdir="+dir, "apply", "-json", "-auto-approve")
	if n := typesOf(streamOf(t, out)); code != 0 || n["apply_start"] != 0 || n["change_summary"] != 1 {
		t.Errorf("apply -json with nothing to do: exit %d, %v\n%s", code, n, out)
	}
}

// TestApplyJSONStepFailed: a failed step is apply_errored, naming the
// step, then the error as a diagnostic.
func TestApplyJSONStepFailed(t *testing.T) {
	var b bytes.Buffer
	s := newStream(&b, time.Now)
	step := plan.Step{Index: 2, Address: `certificate.www["a"]`, Action: plan.Replace, Phase: "deploy"}
	s.version()
	s.planned(&plan.Plan{Steps: []plan.Step{step}})
	s.event(engine.Event{Kind: engine.EventStep, Step: 2, Text: "step 2/2: ± certificate.www deploy"})
	s.applied(&plan.Plan{}, &engine.Outcome{Failed: &step}, errors.New("step 2 (certificate.www deploy) failed: disk full"))
	ms := streamOf(t, b.String())
	errored, diag := ms[len(ms)-2], ms[len(ms)-1]
	hook, _ := errored["hook"].(map[string]any)
	if errored["type"] != "apply_errored" || hook["step"] != 2.0 || hook["action"] != "replace" || hook["resource"].(map[string]any)["resource_key"] != "a" {
		t.Errorf("apply_errored: %v", errored)
	}
	d, _ := diag["diagnostic"].(map[string]any)
	if diag["type"] != "diagnostic" || diag["@level"] != "error" || !strings.Contains(d["detail"].(string), "disk full") {
		t.Errorf("the error diagnostic: %v", diag)
	}
}

// TestValidateJSONSnippet: validate -json's diagnostics carry Terraform's
// byte offsets and snippet.
func TestValidateJSONSnippet(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte("local_ca \"ca\" {\n  common_name = \"CA\"\n  colour = 1\n}\n"), 0o644)
	code, out, _ := runIn(false, nil, "-chdir="+dir, "validate", "-json")
	var v struct {
		Diagnostics []struct {
			Range struct {
				Start struct{ Line, Column, Byte int }
			}
			Snippet *struct {
				Context              *string
				Code                 string
				StartLine            int `json:"start_line"`
				HighlightStartOffset int `json:"highlight_start_offset"`
				HighlightEndOffset   int `json:"highlight_end_offset"`
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &v); code != 1 || err != nil || len(v.Diagnostics) != 1 || v.Diagnostics[0].Snippet == nil {
		t.Fatalf("validate -json: exit %d, %v\n%s", code, err, out)
	}
	d := v.Diagnostics[0]
	sn := d.Snippet
	if d.Range.Start.Line != 3 || d.Range.Start.Byte != 39 || sn.StartLine != 3 || sn.Code != "  colour = 1" ||
		sn.Code[sn.HighlightStartOffset:sn.HighlightEndOffset] != "colour" || sn.Context == nil || *sn.Context != `local_ca "ca"` {
		t.Errorf("the diagnostic's range and snippet:\n%s", out)
	}
}
