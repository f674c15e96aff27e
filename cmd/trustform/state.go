package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/trustform/trustform/engine/state"
)

const stateUsage = `Usage: trustform [-chdir=DIR] state SUBCOMMAND [options] [ARGS]

The state where the configuration keeps it (.trustform/ or PostgreSQL), as
Terraform's state subcommands read and edit it. Nothing on any host changes.

Subcommands:
  list [ADDR…]     the resources state holds (those ADDR names: an address,
                   every instance of a for_each block, or a block type)
  show ADDR        what state holds of one resource
  pull             the state document, as JSON, to stdout
  push FILE|-      replace the stored state with a document (- reads stdin);
                   refused when its lineage differs or its serial goes back
                   (-force writes it anyway)
  mv SRC DST       rename a resource in state after its block was renamed
  rm ADDR…         forget resources (an address, or every instance of a
                   for_each block): trustform no longer manages them

Options:
`

var stateSubcommands = []string{"list", "show", "pull", "push", "mv", "rm"}

// cmdState is Terraform's state subcommands over whichever store the
// configuration uses. Moving state between .trustform/ and PostgreSQL is a
// pull before the state block changes and a push after it.
func cmdState(args []string, chdir string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, stateUsage)
		return 1
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprint(e.stdout, stateUsage)
		return 0
	}
	sub, args := args[0], args[1:]
	if !slices.Contains(stateSubcommands, sub) {
		return errorf(e, "unknown state subcommand %q.%s Subcommands: %s (trustform state -h).", sub, didYouMean(sub, stateSubcommands), strings.Join(stateSubcommands, ", "))
	}
	var c common
	fs := newFlagSet("state "+sub, e.stderr, chdir, &c)
	force := fs.Bool("force", false, "push: write even when the lineage differs or the serial goes back")
	fs.Usage = func() { fmt.Fprint(e.stderr, stateUsage); fs.PrintDefaults() }
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	n := map[string][2]int{"list": {0, -1}, "show": {1, 1}, "pull": {0, 0}, "push": {1, 1}, "mv": {2, 2}, "rm": {1, -1}}[sub]
	if fs.NArg() < n[0] || (n[1] >= 0 && fs.NArg() > n[1]) {
		return errorf(e, "state %s: wrong number of arguments (%d); see trustform state -h", sub, fs.NArg())
	}
	// The document to push is read before anything is locked: a missing
	// file is an error, never an empty state.
	var in *state.State
	if sub == "push" {
		var err error
		if in, err = readPushed(e, fs.Arg(0)); err != nil {
			return errorf(e, "%v", err)
		}
	}
	_, store := c.loadStore(e)
	if store == nil {
		return 1
	}
	defer store.Close()
	ctx := context.Background()
	writes := sub == "push" || sub == "rm" || sub == "mv"
	if writes {
		if err := store.Lock(ctx, "state "+sub, c.lockTimeout); err != nil {
			return errorf(e, "%v", err)
		}
	}
	st, err := store.Load(ctx)
	if err != nil {
		return errorf(e, "%v", err)
	}
	switch sub {
	case "pull":
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return errIf(e, enc.Encode(st))
	case "list":
		addrs := slices.Sorted(maps.Keys(st.Resources))
		if fs.NArg() > 0 {
			addrs = nil
			for _, p := range fs.Args() {
				addrs = append(addrs, st.Select(p)...)
			}
			slices.Sort(addrs)
			addrs = slices.Compact(addrs)
		}
		for _, a := range addrs {
			fmt.Fprintln(e.stdout, a)
		}
		return 0
	case "show":
		r := st.Get(fs.Arg(0))
		if r == nil {
			return errorf(e, "%s is not in the state.%s", fs.Arg(0), didYouMean(fs.Arg(0), slices.Collect(maps.Keys(st.Resources))))
		}
		writeStateEntry(e, fs.Arg(0), r, st)
		return 0
	case "mv":
		if err := st.Move(fs.Arg(0), fs.Arg(1)); err != nil {
			return errorf(e, "%v", err)
		}
		if err := store.Save(ctx, st); err != nil {
			return errorf(e, "%v", err)
		}
		fmt.Fprintf(e.stdout, "Moved %s to %s in the state (nothing on the hosts changed).\n", fs.Arg(0), fs.Arg(1))
		return 0
	case "rm":
		var gone []string
		for _, p := range fs.Args() {
			sel := st.Select(p)
			if len(sel) == 0 {
				return errorf(e, "%s names nothing in the state (nothing was removed)", p)
			}
			gone = append(gone, sel...)
		}
		for _, a := range gone {
			st.Forget(a)
		}
		if err := store.Save(ctx, st); err != nil {
			return errorf(e, "%v", err)
		}
		for _, a := range gone {
			fmt.Fprintf(e.stdout, "Removed %s from the state (nothing on the hosts changed).\n", a)
		}
		return 0
	}
	// push
	if err := st.Accept(in, *force); err != nil {
		return errorf(e, "%s: %v", fs.Arg(0), err)
	}
	if err := store.Save(ctx, in); err != nil {
		return errorf(e, "%v", err)
	}
	fmt.Fprintf(e.stdout, "Pushed %s: lineage %s, serial %d.\n", fs.Arg(0), in.Lineage, in.Serial)
	return 0
}

// readPushed reads the document state push is given: a file, or stdin for
// "-".
func readPushed(e env, name string) (*state.State, error) {
	if name == "-" {
		return state.Read(e.stdin, "the state on stdin")
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("state push: %w", err)
	}
	defer f.Close()
	return state.Read(f, name)
}

// writeStateEntry prints one entry as state show does: its value, when it
// was applied, and what state keeps beside it.
func writeStateEntry(e env, addr string, r *state.Resource, st *state.State) {
	fmt.Fprintf(e.stdout, "# %s (%s)\n", addr, r.Type)
	for _, k := range slices.Sorted(maps.Keys(r.Value)) {
		a := r.Value[k]
		v := fmt.Sprintf("%q", a.Str)
		if a.IsList {
			quoted := make([]string, len(a.List))
			for i, x := range a.List {
				quoted[i] = fmt.Sprintf("%q", x)
			}
			v = "[" + strings.Join(quoted, ", ") + "]"
		}
		fmt.Fprintf(e.stdout, "  %s = %s\n", k, v)
	}
	if !r.AppliedAt.IsZero() {
		fmt.Fprintf(e.stdout, "  # recorded %s\n", r.AppliedAt.UTC().Format(time.RFC3339))
	}
	for _, rec := range slices.Sorted(maps.Keys(r.VisibleAt)) {
		fmt.Fprintf(e.stdout, "  # %s visible since %s\n", rec, r.VisibleAt[rec].UTC().Format(time.RFC3339))
	}
	if p, ok := st.Pending[addr]; ok {
		fmt.Fprintf(e.stdout, "  # its %s step did not finish: the next apply runs it again\n", p)
	}
	for _, rt := range st.Retiring[addr] {
		fmt.Fprintf(e.stdout, "  # the replaced certificate %s is still to retire\n", rt.Serial)
	}
	if len(r.Adopted) > 0 {
		fmt.Fprintf(e.stdout, "  # imported as it was: %s\n", strings.Join(slices.Sorted(maps.Keys(r.Adopted)), ", "))
	}
}
