package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/schema"
)

func cmdShow(args []string, chdir string, e env) int {
	var c common
	fs := newFlagSet("show", e.stderr, chdir, &c)
	asJSON := fs.Bool("json", false, "print as JSON")
	asMarkdown := fs.Bool("markdown", false, "print a plan as a pull-request comment (Markdown)")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 { // no plan: show the state, from wherever the configuration keeps it
		cfg, diags := c.load(e)
		if cfg == nil || diags.HasErrors() {
			cfg = &schema.Config{Dir: c.chdir}
		}
		store := storeOf(cfg)
		defer store.Close()
		st, err := store.Load(context.Background())
		if err != nil {
			return errorf(e, "%v", err)
		}
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			enc.Encode(st)
			return 0
		}
		if len(st.Resources) == 0 {
			fmt.Fprintln(e.stdout, "The state is empty: nothing has been applied yet.")
			return 0
		}
		for _, a := range slices.Sorted(maps.Keys(st.Resources)) {
			r := st.Resources[a]
			fmt.Fprintf(e.stdout, "# %s (applied %s)\n", a, r.AppliedAt.Format("2006-01-02 15:04:05 MST"))
			for _, k := range r.Value.Keys() {
				fmt.Fprintf(e.stdout, "    %s = %s\n", k, r.Value[k])
			}
		}
		return 0
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return errorf(e, "%v", err)
	}
	defer f.Close()
	p, err := plan.ReadJSON(f)
	if err != nil {
		return errorf(e, "%s is not a trustform plan: %v", fs.Arg(0), err)
	}
	if *asJSON {
		if err := plan.WriteJSON(e.stdout, p); err != nil {
			return errorf(e, "%v", err)
		}
		return 0
	}
	if *asMarkdown {
		if err := plan.WriteMarkdown(e.stdout, p); err != nil {
			return errorf(e, "%v", err)
		}
		return 0
	}
	plan.WriteText(e.stdout, p, plan.TextOptions{Color: c.color(e)})
	return 0
}
