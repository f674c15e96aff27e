package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/trustform/trustform/engine/state"
)

// cmdState is Terraform's state subcommands over whichever store the
// configuration uses: pull (the state JSON to stdout), push FILE, list and
// rm ADDR. Moving state between .trustform/ and PostgreSQL is a pull before
// the state block changes and a push after it.
func cmdState(args []string, chdir string, e env) int {
	if len(args) == 0 {
		return errorf(e, "state needs a subcommand: pull, push FILE, list or rm ADDR")
	}
	sub, args := args[0], args[1:]
	var c common
	fs := newFlagSet("state "+sub, e.stderr, chdir, &c)
	force := fs.Bool("force", false, "push: write even when the lineage differs or the serial goes back")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	cfg, diags := c.load(e)
	if diags.HasErrors() {
		printDiags(e, &c, cfg, diags, false)
		return 1
	}
	ctx := context.Background()
	store, err := c.store(e, cfg)
	if err != nil {
		return errorf(e, "%v", err)
	}
	defer store.Close()
	if sub == "push" || sub == "rm" {
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
		enc.Encode(st)
	case "list":
		for _, a := range slices.Sorted(maps.Keys(st.Resources)) {
			fmt.Fprintln(e.stdout, a)
		}
	case "rm":
		if fs.NArg() != 1 {
			return errorf(e, "state rm takes one address")
		}
		a := fs.Arg(0)
		if err := st.Forget(a); err != nil {
			return errorf(e, "%v", err)
		}
		if err := store.Save(ctx, st); err != nil {
			return errorf(e, "%v", err)
		}
		fmt.Fprintf(e.stdout, "Removed %s from the state (nothing on the hosts changed).\n", a)
	case "push":
		if fs.NArg() != 1 {
			return errorf(e, "state push takes one state file")
		}
		in, err := state.Load(fs.Arg(0))
		if err != nil {
			return errorf(e, "%v", err)
		}
		if err := st.Accept(in, *force); err != nil {
			return errorf(e, "%s: %v", fs.Arg(0), err)
		}
		if err := store.Save(ctx, in); err != nil {
			return errorf(e, "%v", err)
		}
		fmt.Fprintf(e.stdout, "Pushed %s: lineage %s, serial %d.\n", fs.Arg(0), in.Lineage, in.Serial)
	default:
		return errorf(e, "unknown state subcommand %q: pull, push FILE, list or rm ADDR", sub)
	}
	return 0
}
