package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/internal/netpolicy"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/apt"
	"github.com/trustform/trustform/schema"
)

// The engine on its own: its blocks bound to a fake kind whose world is a
// map in memory (fakeWorld), through the engine.Binder the command would
// give it the real kinds with. Ordering, resume after a crash inside or
// after any step, state repairs, -target and saved plans are tested here
// in milliseconds; the end-to-end tests prove the real kinds.

// fakeWorld is what the fake resources manage: a value per address, and
// every write in order.
type fakeWorld struct {
	mu     sync.Mutex
	values map[string]providers.Value
	writes []string // "address phase"
	// fail makes the write of this address fail, as a server refusing it;
	// blind makes it unobservable once written.
	fail, blind string
}

func (w *fakeWorld) get(addr string) providers.Value {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.values[addr].Clone()
}

// fake is a resource of the fake kind: an apt_key or apt_source block's
// attributes as its desired value, written in one phase after what it
// refers to.
type fake struct {
	w       *fakeWorld
	addr    string
	desired providers.Value
	trusts  schema.Address // an apt_source's key (providers.KeyTruster)
}

var (
	_ providers.Resource = (*fake)(nil)
	_ providers.Deleter  = (*fake)(nil)
)

func (f *fake) Observe(context.Context) (providers.Value, error) {
	if v := f.w.get(f.addr); v == nil || f.w.blind != f.addr {
		return v, nil
	}
	return nil, errors.New("the server does not answer")
}

func (f *fake) Plan(observed providers.Value, opts providers.PlanOptions) (providers.Value, *providers.Change) {
	write := providers.Phase{Name: providers.PhaseWrite, Description: "write " + f.addr}
	if opts.Replace && observed != nil {
		return f.desired, &providers.Change{Action: providers.Replace, Reasons: []string{"-replace"}, Phases: []providers.Phase{write}}
	}
	ch := providers.Diff(f.desired, observed, write)
	if ch != nil && f.trusts.Type != "" {
		ch.After = []providers.Dep{{Addr: f.trusts, Phase: providers.PhaseWrite}}
	}
	return f.desired, ch
}

func (f *fake) Apply(_ context.Context, _ *providers.Change, phase string) error {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	if f.w.fail == f.addr {
		return errors.New("the server refuses the write")
	}
	f.w.writes = append(f.w.writes, f.addr+" "+phase)
	if phase == providers.PhaseDelete {
		delete(f.w.values, f.addr)
	} else {
		f.w.values[f.addr] = f.desired.Clone()
	}
	return nil
}

func (f *fake) Delete(providers.Value) *providers.Change {
	return &providers.Change{Action: providers.Delete, Reasons: []string{"its block is gone"}, Phases: []providers.Phase{{Name: providers.PhaseDelete, Description: "delete " + f.addr}}}
}

type fakeSource struct{ *fake }

func (f fakeSource) TrustsKey() schema.Address { return f.trusts }

var _ providers.KeyTruster = fakeSource{}

// fakeKinds binds apt_key and apt_source blocks to fakes of w, in the
// order the real kinds are bound.
func fakeKinds(w *fakeWorld) engine.Binder {
	return func(cfg *schema.Config, _ func() time.Time, _ *netpolicy.Policy) (engine.World, hcl.Diagnostics) {
		g := graph.New(cfg)
		for _, k := range cfg.Kinds() {
			cfg.Each(func(addr schema.Address, _ hcl.Range, block schema.Block) {
				if addr.Type != k.Type {
					return
				}
				f := &fake{w: w, addr: addr.String()}
				var res providers.Resource = f
				switch b := block.(type) {
				case *apt.KeyBlock:
					f.desired = providers.Value{"fingerprint": providers.String(b.Fingerprint), "url": providers.String(b.URL)}
				case *apt.SourceBlock:
					f.desired = providers.Value{"uris": providers.List(b.URIs...), "suites": providers.List(b.Suites...)}
					f.trusts = b.SignedBy.Address
					res = fakeSource{f}
				default:
					return
				}
				n := &graph.Node{Addr: addr, Block: block, Res: res}
				for _, r := range cfg.Refs(addr) {
					if dep := g.Node(r.Address); dep != nil {
						n.Wave = max(n.Wave, dep.Wave+1)
					}
				}
				g.AddNode(n)
			})
		}
		return engine.World{Graph: g}, nil
	}
}

// fakeConfig is two keys and three sources; source c trusts key b.
func fakeConfig(sources ...string) string {
	var b strings.Builder
	for _, k := range []string{"a", "b"} {
		fmt.Fprintf(&b, "apt_key %q {\n  fingerprint = \"734608F7CD36DD4E720A4C708BF26C0845ABC4F2\"\n  url = \"%s.asc\"\n  keyring = \"keyrings/%s.gpg\"\n}\n", k, k, k)
	}
	for _, s := range sources {
		key := map[bool]string{true: "b", false: "a"}[s == "c"]
		fmt.Fprintf(&b, "apt_source %q {\n  file = \"sources/%s.sources\"\n  uris = [\"https://%s.example.test/debian\"]\n  suites = [\"stable\"]\n  signed_by = apt_key.%s\n}\n", s, s, s, key)
	}
	return b.String()
}

// fakeRun observes the configuration in dir against w and plans it.
func fakeRun(t *testing.T, dir string, w *fakeWorld, opts engine.Options) (*engine.Run, *plan.Plan) {
	t.Helper()
	key := apt.KeyKind().Kind
	key.Replaceable = true // the fake's keys take -replace, as certificates do
	cfg, diags := schema.Load(dir, schema.Inputs{}, []schema.Kind{key, apt.SourceKind().Kind})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	st, err := state.Load(state.Path(cfg.StateDir()))
	if err != nil {
		t.Fatal(err)
	}
	run, diags := engine.New(cfg, st, fakeKinds(w), opts)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if d := run.Observe(context.Background()); d.HasErrors() {
		t.Fatal(d)
	}
	p, d := run.Plan()
	if d.HasErrors() {
		t.Fatal(d)
	}
	return run, p
}

func newFakeWorld() *fakeWorld { return &fakeWorld{values: map[string]providers.Value{}} }

// stateIsWorld: every resource's state entry is what the world holds, and
// nothing else is recorded; a refresh-only plan finds no drift.
func stateIsWorld(t *testing.T, dir string, w *fakeWorld) {
	t.Helper()
	st, err := state.Load(state.Path(filepath.Join(dir, ".trustform")))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := slices.Sorted(maps.Keys(st.Resources)), slices.Sorted(maps.Keys(w.values)); !slices.Equal(got, want) {
		t.Errorf("state records %v, the world holds %v", got, want)
	}
	for a, v := range w.values {
		if sr := st.Get(a); sr != nil && len(providers.Differs(v, sr.Value)) > 0 {
			t.Errorf("%s: state records %v, the world holds %v", a, sr.Value, v)
		}
	}
	if _, p := fakeRun(t, dir, w, engine.Options{RefreshOnly: true}); len(p.Changes) > 0 {
		t.Errorf("drift after the apply: %+v", p.Changes)
	}
}

func fakeDir(t *testing.T, cfg string) string {
	dir := t.TempDir()
	writeConfig(t, dir, cfg)
	return dir
}

// TestFakeKindOrder: each key is written before the sources that trust it
// (apt-key-before-source, through the KeyTruster role), and the plan
// says which rule orders the step.
func TestFakeKindOrder(t *testing.T) {
	w := newFakeWorld()
	dir := fakeDir(t, fakeConfig("a", "c"))
	run, p := fakeRun(t, dir, w, engine.Options{})
	var got []string
	for _, s := range p.Steps {
		got = append(got, fmt.Sprintf("%s %s %v %s", s.Address, s.Phase, s.DependsOn, s.Rule))
	}
	want := []string{"apt_key.a write [] ", "apt_key.b write [] ", "apt_source.a write [1] apt-key-before-source", "apt_source.c write [2] apt-key-before-source"}
	if !slices.Equal(got, want) {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w.writes, []string{"apt_key.a write", "apt_key.b write", "apt_source.a write", "apt_source.c write"}) {
		t.Errorf("written in the order %v", w.writes)
	}
	stateIsWorld(t, dir, w)
}

// crashed is what the fault hook panics with: the process dies there, and
// nothing after it runs.
type crashed struct{}

// TestFakeKindResumeAfterCrash: an apply killed inside any step (after its
// write, before its record) or after it, then one more apply, leaves the
// world as configured, each resource written no more than twice, and a
// state that is the world.
func TestFakeKindResumeAfterCrash(t *testing.T) {
	for _, where := range []string{"inside", "after"} {
		for n := 1; n <= 4; n++ {
			t.Run(fmt.Sprintf("%s-step-%d", where, n), func(t *testing.T) {
				w := newFakeWorld()
				dir := fakeDir(t, fakeConfig("a", "c"))
				run, p := fakeRun(t, dir, w, engine.Options{})
				steps := 0
				kill := func(plan.Step) {
					if steps++; steps == n {
						panic(crashed{})
					}
				}
				o := engine.ApplyOptions{Save: saver(dir)}
				if where == "inside" {
					o.AfterWrite = kill
				} else {
					o.AfterStep = kill
				}
				func() {
					defer func() {
						if r := recover(); r != (crashed{}) {
							panic(r)
						}
					}()
					run.Apply(context.Background(), p, o)
					t.Fatal("the apply was not killed")
				}()
				run, p = fakeRun(t, dir, w, engine.Options{})
				if _, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)}); err != nil {
					t.Fatal(err)
				}
				if _, p := fakeRun(t, dir, w, engine.Options{}); p.HasChanges() {
					t.Errorf("changes after the resumed apply: %+v %+v", p.Steps, p.StateRepairs)
				}
				count := map[string]int{}
				for _, wr := range w.writes {
					count[wr]++
				}
				for wr, c := range count {
					if c > 2 || (c == 2 && !(where == "inside" && wr == w.writes[n-1])) {
						t.Errorf("%s written %d times: %v", wr, c, w.writes)
					}
				}
				stateIsWorld(t, dir, w)
			})
		}
	}
}

// TestFakeKindFailedStep: a server that refuses a write stops the apply at
// that step, naming it; what came before is recorded, the failed step is
// pending and runs again once the server accepts.
func TestFakeKindFailedStep(t *testing.T) {
	w := newFakeWorld()
	w.fail = "apt_source.a"
	dir := fakeDir(t, fakeConfig("a", "c"))
	run, p := fakeRun(t, dir, w, engine.Options{})
	_, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)})
	if err == nil || !strings.Contains(err.Error(), "step 3 (apt_source.a write) failed: the server refuses the write") {
		t.Fatalf("apply: %v", err)
	}
	st, _ := state.Load(state.Path(filepath.Join(dir, ".trustform")))
	if st.Pending["apt_source.a"] != providers.PhaseWrite || st.Get("apt_key.b") == nil || st.Get("apt_source.a") != nil {
		t.Errorf("state after the failure: pending %v, resources %v", st.Pending, slices.Sorted(maps.Keys(st.Resources)))
	}
	w.fail = ""
	run, p = fakeRun(t, dir, w, engine.Options{})
	if _, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)}); err != nil {
		t.Fatal(err)
	}
	stateIsWorld(t, dir, w)
}

// TestFakeKindStateRepair: a state entry edited to disagree with a world
// as configured is repaired by apply, which writes nothing.
func TestFakeKindStateRepair(t *testing.T) {
	w := newFakeWorld()
	dir := fakeDir(t, fakeConfig("a"))
	run, p := fakeRun(t, dir, w, engine.Options{})
	if _, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)}); err != nil {
		t.Fatal(err)
	}
	path := state.Path(filepath.Join(dir, ".trustform"))
	st, _ := state.Load(path)
	st.Get("apt_source.a").Value["uris"] = providers.List("https://old.example.test/debian")
	st.Save(path)
	writes := len(w.writes)
	run, p = fakeRun(t, dir, w, engine.Options{})
	if len(p.Steps) != 0 || len(p.StateRepairs) != 1 {
		t.Fatalf("steps %+v, repairs %+v", p.Steps, p.StateRepairs)
	}
	out, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)})
	if err != nil || out.Repaired != 1 || len(w.writes) != writes {
		t.Errorf("repaired %d, err %v, writes %v", out.Repaired, err, w.writes[writes:])
	}
	stateIsWorld(t, dir, w)
}

// TestFakeKindTargetAndRemoval: -target plans the target and what it
// refers to only; a removed block plans its deletion, and a removed
// block with destroy = false is forgotten without a write.
func TestFakeKindTargetAndRemoval(t *testing.T) {
	w := newFakeWorld()
	dir := fakeDir(t, fakeConfig("a", "c"))
	target, _ := schema.ParseAddress("apt_source.c")
	_, p := fakeRun(t, dir, w, engine.Options{Targets: []schema.Address{target}})
	var got []string
	for _, s := range p.Steps {
		got = append(got, s.Address)
	}
	if !slices.Equal(got, []string{"apt_key.b", "apt_source.c"}) {
		t.Errorf("-target=apt_source.c plans %v", got)
	}

	run, p := fakeRun(t, dir, w, engine.Options{})
	if _, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)}); err != nil {
		t.Fatal(err)
	}
	writeConfig(t, dir, fakeConfig("c"))
	run, p = fakeRun(t, dir, w, engine.Options{})
	if len(p.Steps) != 1 || p.Steps[0].Address != "apt_source.a" || p.Steps[0].Phase != providers.PhaseDelete {
		t.Fatalf("removing apt_source.a plans %+v", p.Steps)
	}
	if _, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)}); err != nil {
		t.Fatal(err)
	}
	if w.get("apt_source.a") != nil {
		t.Error("apt_source.a was not deleted")
	}
	stateIsWorld(t, dir, w)

	writeConfig(t, dir, fakeConfig()+"removed {\n  from    = apt_source.c\n  destroy = false\n}\n")
	writes := len(w.writes)
	run, p = fakeRun(t, dir, w, engine.Options{})
	if _, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)}); err != nil {
		t.Fatal(err)
	}
	st, _ := state.Load(state.Path(filepath.Join(dir, ".trustform")))
	if len(w.writes) != writes || w.get("apt_source.c") == nil || st.Get("apt_source.c") != nil {
		t.Errorf("destroy = false: writes %v, world %v, state %v", w.writes[writes:], w.get("apt_source.c"), st.Get("apt_source.c"))
	}
}

// TestFakeKindSavedPlan: a saved plan approves exactly the plan the engine
// makes again; once the world changed it is refused.
func TestFakeKindSavedPlan(t *testing.T) {
	w := newFakeWorld()
	dir := fakeDir(t, fakeConfig("a"))
	_, p := fakeRun(t, dir, w, engine.Options{})
	var saved bytes.Buffer
	plan.WriteJSON(&saved, p)
	file := filepath.Join(dir, "plan.json")
	os.WriteFile(file, saved.Bytes(), 0o600)

	read := func() *plan.Plan {
		f, _ := os.Open(file)
		defer f.Close()
		sp, err := plan.ReadJSON(f)
		if err != nil {
			t.Fatal(err)
		}
		return sp
	}
	run, _ := fakeRun(t, dir, w, engine.Options{})
	if _, _, why := run.Approve(read()); why != "" {
		t.Fatalf("refused: %s", why)
	}
	w.values["apt_key.a"] = providers.Value{"fingerprint": providers.String("other")}
	run, _ = fakeRun(t, dir, w, engine.Options{})
	if _, _, why := run.Approve(read()); !strings.Contains(why, "the live world changed") {
		t.Errorf("a plan of another world is approved: %q", why)
	}
}

// TestFakeKindUnobservedStep: a step that ran but cannot be observed
// afterwards is not done: apply stops there naming it, the step stays
// pending (state records nothing it did not see), and the next apply runs
// it again and records it.
func TestFakeKindUnobservedStep(t *testing.T) {
	w := newFakeWorld()
	w.blind = "apt_source.a"
	dir := fakeDir(t, fakeConfig("a"))
	run, p := fakeRun(t, dir, w, engine.Options{})
	_, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)})
	if err == nil || !strings.Contains(err.Error(), "apt_source.a write was carried out, but observing it afterwards failed") {
		t.Fatalf("apply: %v", err)
	}
	st, _ := state.Load(state.Path(filepath.Join(dir, ".trustform")))
	if st.Pending["apt_source.a"] != providers.PhaseWrite || st.Get("apt_source.a") != nil {
		t.Errorf("state after the blind step: pending %v, entry %v", st.Pending, st.Get("apt_source.a"))
	}
	w.blind = ""
	run, p = fakeRun(t, dir, w, engine.Options{})
	if len(p.Steps) != 1 || p.Steps[0].Address != "apt_source.a" {
		t.Fatalf("the pending step is not planned again: %+v", p.Steps)
	}
	if _, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)}); err != nil {
		t.Fatal(err)
	}
	stateIsWorld(t, dir, w)
}

// TestFakeKindReplaceSelection: -replace names blocks of a replaceable
// kind, one by one or TYPE.*; a block of another kind is refused.
func TestFakeKindReplaceSelection(t *testing.T) {
	w := newFakeWorld()
	dir := fakeDir(t, fakeConfig("a", "c"))
	run, p := fakeRun(t, dir, w, engine.Options{})
	if _, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)}); err != nil {
		t.Fatal(err)
	}
	_, p = fakeRun(t, dir, w, engine.Options{Replace: []schema.Address{{Type: "apt_key", Name: "*"}}})
	var replaced []string
	for _, c := range p.Changes {
		if c.Action == providers.Replace {
			replaced = append(replaced, c.Address)
		}
	}
	if !slices.Equal(replaced, []string{"apt_key.a", "apt_key.b"}) || !slices.Equal(p.Replace, []string{"apt_key.a", "apt_key.b"}) {
		t.Errorf("-replace=apt_key.* replaces %v (plan says %v)", replaced, p.Replace)
	}
	cfg, _ := schema.Load(dir, schema.Inputs{}, []schema.Kind{apt.KeyKind().Kind, apt.SourceKind().Kind})
	st, _ := state.Load(state.Path(cfg.StateDir()))
	for _, a := range []schema.Address{{Type: "apt_source", Name: "a"}, {Type: "nope", Name: "*"}} {
		_, diags := engine.New(cfg, st, fakeKinds(w), engine.Options{Replace: []schema.Address{a}})
		if !strings.Contains(diags.Error(), "Invalid -replace") {
			t.Errorf("-replace=%s: %v", a, diags)
		}
	}
}
