package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSavedPlansAreTrusted: a plan file says which plan was approved; the
// steps that run are the engine's. Each edit of a reviewed plan, as someone
// with write access to the artefact store could make it, is refused before
// anything runs: the served key stays, and the state is not written.
func TestSavedPlansAreTrusted(t *testing.T) {
	dir := quickstart(t)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "first apply")
	replacePlan := filepath.Join(dir, "replace.tfplan")
	mustCode(t, tf(t, dir, "plan", "-replace=certificate.www", "-out="+replacePlan), 0, "plan -replace")
	noChanges := filepath.Join(dir, "nothing.tfplan")
	mustCode(t, tf(t, dir, "plan", "-out="+noChanges), 0, "plan without changes")
	key := filepath.Join(dir, "out", "etc", "ssl", "example", "www.key.pem")
	keyBefore, _ := os.ReadFile(key)
	stateBefore, _ := os.ReadFile(filepath.Join(dir, ".trustform", "state.json"))

	replaceOpt := []string{"-replace=certificate.www"}
	edit := func(path string, f func(p map[string]any)) []byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var p map[string]any
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		f(p)
		out, _ := json.Marshal(p)
		return out
	}
	steps := func(path string) []any {
		var p map[string]any
		b, _ := os.ReadFile(path)
		json.Unmarshal(b, &p)
		return p["steps"].([]any)
	}
	for _, tc := range []struct {
		name        string
		file        []byte
		want        string
		showRefuses bool
		opts        []string // apply's, as the plan was made
	}{
		{"gate removed", edit(replacePlan, func(p map[string]any) {
			for _, s := range p["steps"].([]any) {
				s.(map[string]any)["not_before"] = nil
			}
		}), "the plan file is not the plan it claims to be: step", false, replaceOpt},
		{"steps added to a no-changes plan", edit(noChanges, func(p map[string]any) {
			p["steps"] = steps(replacePlan)
		}), "the engine does not plan", false, nil},
		{"unknown address", edit(replacePlan, func(p map[string]any) {
			p["steps"].([]any)[0].(map[string]any)["address"] = "local_ca.nope"
		}), "local_ca.nope", false, replaceOpt},
		{"step reordered", edit(replacePlan, func(p map[string]any) {
			s := p["steps"].([]any)
			s[0], s[1] = s[1], s[0]
		}), "step 1 has index 2", true, replaceOpt},
		{"format_version 9.0", edit(replacePlan, func(p map[string]any) { p["format_version"] = "9.0" }), `format_version is "9.0"`, true, nil},
		{"no format_version", []byte(`{"hello":1}`), `unknown field "hello"`, true, nil},
		{"newer trustform", edit(replacePlan, func(p map[string]any) { p["trustform_version"] = "v99.0.0" }), "made by trustform v99.0.0, newer than this one", true, nil},
		{"truncated", func() []byte { b, _ := os.ReadFile(replacePlan); return b[:len(b)/2] }(), "truncated", true, nil},
		{"two objects", func() []byte { b, _ := os.ReadFile(noChanges); return append(b, b...) }(), "more than one JSON object", true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "edited.tfplan")
			os.WriteFile(f, tc.file, 0o644)
			// The options are given as the plan was made with them: what is
			// checked here is the engine's plan against the file's steps.
			r := tf(t, dir, append(append([]string{"apply"}, tc.opts...), f)...)
			mustCode(t, r, 1, "apply of an edited plan")
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("the refusal does not say %q:\n%s", tc.want, r.stderr)
			}
			if strings.Contains(r.stderr, "panic") {
				t.Errorf("apply panicked:\n%s", r.stderr)
			}
			if s := tf(t, dir, "show", f); tc.showRefuses && s.code != 1 {
				t.Errorf("show accepted the edited file:\n%s", s.stdout)
			}
			if k, _ := os.ReadFile(key); !bytes.Equal(k, keyBefore) {
				t.Fatal("the served key changed")
			}
			if st, _ := os.ReadFile(filepath.Join(dir, ".trustform", "state.json")); !bytes.Equal(st, stateBefore) {
				t.Fatal("the state was written")
			}
		})
	}
	mustCode(t, tf(t, dir, "apply", "-replace=certificate.www", replacePlan), 0, "the reviewed plan itself applies, with its options")
}
