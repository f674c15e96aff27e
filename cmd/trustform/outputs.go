package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/schema"
)

// cmdOutput is Terraform's output: the output blocks' values from what
// state holds, without reading any server. A sensitive output is never
// printed (trustform prints no secret, in any form).
func cmdOutput(args []string, chdir string, e env) int {
	var c common
	fs := newFlagSet("output", e.stderr, chdir, &c)
	asJSON := fs.Bool("json", false, "print the outputs as JSON, as terraform output -json does")
	raw := fs.Bool("raw", false, "print one string output's value as it is, without quotes (for scripts)")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	switch {
	case fs.NArg() > 1:
		return errorf(e, "output takes at most one output name; got %q", fs.Args())
	case *raw && fs.NArg() == 0:
		return errorf(e, "-raw needs an output name")
	case *raw && *asJSON:
		return errorf(e, "-raw and -json do not go together: choose one")
	}
	cfg, store := c.loadStore(e)
	if store == nil {
		return 1
	}
	defer store.Close()
	st, err := store.Load(context.Background())
	if err != nil {
		return errorf(e, "%v", err)
	}
	values, d := engine.Outputs(cfg, st)
	printDiags(e, &c, cfg, d, *asJSON)
	if d.HasErrors() {
		return 1
	}
	if fs.NArg() == 1 {
		i := slices.IndexFunc(values, func(v schema.OutputValue) bool { return v.Name == fs.Arg(0) })
		if i < 0 {
			var names []string
			for _, v := range values {
				names = append(names, v.Name)
			}
			return errorf(e, "no output named %q.%s", fs.Arg(0), didYouMean(fs.Arg(0), names))
		}
		values = values[i : i+1]
		if *raw {
			v := values[0]
			switch {
			case v.Sensitive:
				return errorf(e, "output %q is sensitive: trustform prints no secret", v.Name)
			case !v.Value.IsWhollyKnown():
				return errorf(e, "output %q is known only after apply", v.Name)
			case v.Value.Type() != cty.String:
				return errorf(e, "-raw prints only a string; output %q is %s (use -json)", v.Name, v.Value.Type().FriendlyName())
			}
			fmt.Fprint(e.stdout, v.Value.AsString())
			return 0
		}
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return errIf(e, enc.Encode(outputsJSON(values)))
	}
	if len(cfg.Outputs) == 0 {
		fmt.Fprintln(e.stderr, "Warning: No outputs found\n\nThe configuration has no output blocks. Add one, such as output \"spki\" { value = certificate.www.spki_sha256 }.")
		return 0
	}
	printOutputs(e, values, fs.NArg() == 1)
	return 0
}

// writeOutputs ends an apply with the outputs, as Terraform's does: the
// -json stream's last message, or "Outputs:" and each one.
func writeOutputs(e env, c *common, values []schema.OutputValue) {
	switch {
	case c.ui != nil:
		c.ui.outputs(outputsJSON(values))
	case len(values) > 0:
		fmt.Fprint(e.stdout, "\nOutputs:\n\n")
		printOutputs(e, values, false)
	}
}

// printOutputs prints outputs as NAME = VALUE in HCL (only the value when
// one was asked for by name).
func printOutputs(e env, values []schema.OutputValue, bare bool) {
	for _, v := range values {
		text := "(known after apply)"
		switch {
		case v.Sensitive:
			text = "(sensitive value)"
		case v.Value.IsWhollyKnown():
			text = strings.TrimSpace(string(hclwrite.TokensForValue(v.Value).Bytes()))
		}
		if bare {
			fmt.Fprintln(e.stdout, text)
			continue
		}
		fmt.Fprintf(e.stdout, "%s = %s\n", v.Name, text)
	}
}

// outputJSON is one output as Terraform's output -json and the -json
// stream's outputs message show it; the value of a sensitive or unknown
// output is left out.
type outputJSON struct {
	Sensitive bool            `json:"sensitive"`
	Type      json.RawMessage `json:"type,omitempty"`
	Value     json.RawMessage `json:"value,omitempty"`
}

func outputsJSON(values []schema.OutputValue) map[string]any {
	out := map[string]any{}
	for _, v := range values {
		o := outputJSON{Sensitive: v.Sensitive}
		if !v.Sensitive && v.Value.IsWhollyKnown() {
			o.Type, _ = ctyjson.MarshalType(v.Value.Type())
			o.Value, _ = ctyjson.Marshal(v.Value, v.Value.Type())
		}
		out[v.Name] = o
	}
	return out
}
