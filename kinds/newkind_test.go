package kinds_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/kinds"
	"github.com/trustform/trustform/kinds/internal/testkind"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// A kind of resource that lives in a package of its own (kinds/internal/testkind:
// its block, validation, references, files, bind, observe, plan and apply)
// works through validate, plan, apply, the JSON and Markdown plans, a
// saved plan's approval and its block's removal with one line added to
// the kinds list, and nothing else of trustform changed.
func TestANewKindIsOneLine(t *testing.T) {
	list := append(kinds.All(), testkind.Kind()) // the one line

	dir := t.TempDir()
	write := func(src string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	load := func() *schema.Config {
		t.Helper()
		cfg, diags := schema.Load(dir, schema.Inputs{}, kinds.Schema(list))
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		return cfg
	}
	run := func(opts engine.Options) (*engine.Run, *plan.Plan) {
		t.Helper()
		cfg := load()
		st, err := state.Load(state.Path(cfg.StateDir()))
		if err != nil {
			t.Fatal(err)
		}
		r, diags := engine.New(cfg, st, kinds.Binder(list), opts)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if d := r.Observe(context.Background()); d.HasErrors() {
			t.Fatal(d)
		}
		p, d := r.Plan()
		if d.HasErrors() {
			t.Fatal(d)
		}
		return r, p
	}
	save := func(st *state.State) error { return st.Save(state.Path(filepath.Join(dir, ".trustform"))) }
	motd := filepath.Join(dir, "etc", "motd")
	if err := os.MkdirAll(filepath.Dir(motd), 0o755); err != nil {
		t.Fatal(err)
	}

	// Validate: the kind's own diagnostics, at file:line:column.
	write("note \"motd\" {\n  path = \"etc/motd\"\n  text = \"hello\"\n}\n")
	if _, diags := schema.Load(dir, schema.Inputs{}, kinds.Schema(list)); !strings.Contains(diags.Error(), "main.hcl:2,10-20: Relative note path") {
		t.Errorf("a relative path: %v", diags)
	}
	if _, diags := kinds.Load(dir, schema.Inputs{}); !strings.Contains(diags.Error(), `Unsupported block type; Blocks of type "note" are not expected here`) {
		t.Errorf("without the line, a note block is: %v", diags)
	}

	// Plan, in text, JSON and Markdown.
	write("host \"here\" {\n  root = \".\"\n}\nnote \"motd\" {\n  path = \"/etc/motd\"\n  text = \"hello\"\n  host = host.here\n}\n")
	_, p := run(engine.Options{})
	if len(p.Changes) != 1 || p.Changes[0].Address != "note.motd" || p.Changes[0].Action != providers.Create {
		t.Fatalf("changes: %+v", p.Changes)
	}
	var js, md bytes.Buffer
	if err := plan.WriteJSON(&js, p); err != nil {
		t.Fatal(err)
	}
	if err := plan.WriteMarkdown(&md, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"address": "note.motd"`, `"action": "create"`, `"text": "hello\n"`} {
		if !strings.Contains(js.String(), want) {
			t.Errorf("the JSON plan lacks %s:\n%s", want, js.String())
		}
	}
	if !strings.Contains(md.String(), "note.motd") {
		t.Errorf("the Markdown plan lacks note.motd:\n%s", md.String())
	}

	// A saved plan approves the apply.
	saved, err := plan.ReadJSON(&js)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := run(engine.Options{})
	approved, diags, why := r.Approve(saved)
	if diags.HasErrors() || why != "" {
		t.Fatalf("the saved plan is not approved: %v %s", diags, why)
	}
	if _, err := r.Apply(context.Background(), approved, engine.ApplyOptions{Save: save}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(motd); err != nil || string(b) != "hello\n" {
		t.Fatalf("the note: %q, %v", b, err)
	}
	if _, p := run(engine.Options{}); len(p.Changes) != 0 {
		t.Errorf("after the apply: %+v", p.Changes)
	}

	// Drift, then the block's removal.
	os.WriteFile(motd, []byte("changed\n"), 0o644)
	if _, p := run(engine.Options{}); len(p.Changes) != 1 || p.Changes[0].Action != providers.Update {
		t.Errorf("after a change by hand: %+v", p.Changes)
	}
	write("host \"here\" {\n  root = \".\"\n}\n")
	r, p = run(engine.Options{})
	if len(p.Changes) != 1 || p.Changes[0].Action != providers.Delete {
		t.Fatalf("without the block: %+v", p.Changes)
	}
	if _, err := r.Apply(context.Background(), p, engine.ApplyOptions{Save: save}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(motd); !os.IsNotExist(err) {
		t.Errorf("the note is still there: %v", err)
	}
}
