package plan

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/trustform/trustform/providers"
)

// TextOptions control the human rendering.
type TextOptions struct {
	Color bool
}

type painter struct{ on bool }

func (p painter) paint(code, s string) string {
	if !p.on || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p painter) action(a Action, s string) string {
	switch a {
	case Create:
		return p.paint("32", s)
	case Update:
		return p.paint("33", s)
	case Delete, Replace:
		return p.paint("31", s)
	}
	return s
}

func (p painter) bold(s string) string { return p.paint("1", s) }

var headline = map[Action]string{
	Create:  "will be created",
	Update:  "will be updated in place",
	Delete:  "will be destroyed",
	Replace: "will be replaced (new key)",
}

// WriteText renders the plan for a terminal, in the spirit of Terraform.
func WriteText(w io.Writer, p *Plan, o TextOptions) {
	pt := painter{o.Color}
	if p.Mode == "refresh-only" {
		writeDrift(w, p, pt)
		return
	}
	if !p.HasChanges() {
		fmt.Fprintln(w, pt.bold("No changes.")+" The live world matches the configuration.")
		return
	}
	if len(p.Steps) > 0 {
		fmt.Fprintln(w, "trustform will perform the following actions:")
		for _, c := range p.Changes {
			if c.Action == NoOp {
				continue
			}
			fmt.Fprintln(w)
			fmt.Fprintf(w, "  %s\n", pt.bold("# "+c.Address+" "+headline[c.Action]))
			writeChange(w, c, pt)
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w, pt.bold("Steps, in order:"))
		writeSteps(w, p, pt)
		fmt.Fprintln(w)
	}
	writeRepairs(w, p, pt)
	if len(p.Forgets) > 0 {
		fmt.Fprintln(w, "These leave trustform's state; what they managed stays in place, and trustform no longer manages it:")
		for _, a := range p.Forgets {
			fmt.Fprintf(w, "  %s\n", pt.bold("# "+a+" will be forgotten"))
		}
		fmt.Fprintln(w)
	}
	if len(p.Imports) > 0 {
		writeChanges(w, "Import blocks take these over as they are; apply records them in state before its first step and changes nothing of them:",
			p.Imports, func(c Change) string { return c.Address + " will be imported (" + strings.Join(c.Reasons, "; ") + ")" }, pt)
	}
	fmt.Fprintln(w, pt.bold(p.SummaryLine()))
}

// SummaryLine is the plan's one-line count of what it does ("Plan: 1 to
// create, …"), as the text plan ends and the JSON stream's change_summary
// says it.
func (p *Plan) SummaryLine() string {
	s := p.Summary
	line := fmt.Sprintf("Plan: %d to create, %d to update, %d to replace, %d to delete.", s.Create, s.Update, s.Replace, s.Delete)
	if s.Import > 0 {
		line = fmt.Sprintf("Plan: %d to import, %d to create, %d to update, %d to replace, %d to delete.", s.Import, s.Create, s.Update, s.Replace, s.Delete)
	}
	if s.Wait > 0 {
		line += fmt.Sprintf(" %d step(s) wait for a time gate.", s.Wait)
	}
	if s.Repair > 0 {
		line += fmt.Sprintf(" %d state entr%s to repair.", s.Repair, plural(s.Repair, "y", "ies"))
	}
	if n := len(p.Forgets); n > 0 {
		line += fmt.Sprintf(" %d to forget.", n)
	}
	return line
}

// writeRepairs lists the state entries apply rewrites without a step.
func writeRepairs(w io.Writer, p *Plan, pt painter) {
	if len(p.StateRepairs) == 0 {
		return
	}
	writeChanges(w, "The state disagrees with a world that needs no change; apply rewrites these entries from what is live and changes nothing else:",
		p.StateRepairs, func(c Change) string { return "the state of " + c.Address + " will be repaired" }, pt)
}

// writeChanges writes a titled list of changes, each under its headline.
func writeChanges(w io.Writer, title string, cs []Change, headline func(Change) string, pt painter) {
	fmt.Fprintln(w, title)
	for _, c := range cs {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "  %s\n", pt.bold("# "+headline(c)))
		writeChange(w, c, pt)
	}
	fmt.Fprintln(w)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func writeSteps(w io.Writer, p *Plan, pt painter) {
	// Addresses are aligned, up to a width: one long for_each address
	// does not push every row of a fleet's plan off an 80-column screen.
	width := 0
	for _, s := range p.Steps {
		width = min(max(width, len(s.Address)), 32)
	}
	for _, s := range p.Steps {
		line := fmt.Sprintf("  %3d  %s %-*s  %-13s", s.Index, pt.action(s.Action, s.Action.Glyph()), width, s.Address, s.Phase)
		var extra []string
		if len(s.DependsOn) > 0 {
			deps := make([]string, len(s.DependsOn))
			for i, d := range s.DependsOn {
				deps[i] = strconv.Itoa(d)
			}
			extra = append(extra, "after "+strings.Join(deps, ","))
		}
		if s.NotBefore != nil {
			extra = append(extra, pt.paint("35", "not before "+s.NotBefore.UTC().Format(time.RFC3339)))
		}
		if s.Rule != "" {
			extra = append(extra, "["+s.Rule+"]")
		}
		if s.Irreversible {
			extra = append(extra, pt.paint("1;31", "IRREVERSIBLE"))
		}
		fmt.Fprintln(w, strings.TrimRight(line+"  "+strings.Join(extra, "  "), " "))
		if s.Description != "" {
			fmt.Fprintf(w, "         %s\n", Escape(s.Description, false))
		}
	}
}

func writeDrift(w io.Writer, p *Plan, pt painter) {
	if len(p.Changes) == 0 {
		fmt.Fprintln(w, pt.bold("No drift.")+" The live world matches the last apply.")
		return
	}
	writeChanges(w, "The live world differs from the last apply:", p.Changes, func(c Change) string { return c.Address + " has drifted" }, pt)
	fmt.Fprintln(w, pt.bold(fmt.Sprintf("Drift: %d resource(s). Run apply to repair.", len(p.Changes))))
}

func writeChange(w io.Writer, c Change, pt painter) {
	fmt.Fprintf(w, "  %s %s %q {\n", pt.action(c.Action, c.Action.Glyph()), c.Type, c.Name)
	keys := map[string]bool{}
	for k := range c.Before {
		keys[k] = true
	}
	for k := range c.After {
		keys[k] = true
	}
	width := 0
	for k := range keys {
		width = max(width, len(k))
	}
	for _, k := range (providers.Value(boolKeys(keys))).Keys() {
		b, hasB := c.Before[k]
		a, hasA := c.After[k]
		switch {
		case !hasA && c.Action == Delete && !strings.Contains(b.Str, "\n"):
			writeAttr(w, pt, Delete, k, width, b) // what is deleted, as observed
		case !hasA:
			continue // observed-only facts are not part of the change
		case !hasB:
			writeAttr(w, pt, Create, k, width, a)
		case b.Equal(a):
			if !strings.Contains(a.Str, "\n") {
				writeAttr(w, pt, NoOp, k, width, a)
			}
		case a.Known() && b.Known() && strings.Contains(a.Str+b.Str, "\n"):
			fmt.Fprintf(w, "      %s %-*s = <<EOT\n", pt.action(Update, "~"), width, k)
			writeLineDiff(w, pt, b.Str, a.Str)
			fmt.Fprintln(w, "        EOT")
		case a.IsList && b.IsList:
			fmt.Fprintf(w, "      %s %-*s = [\n", pt.action(Update, "~"), width, k)
			writeListDiff(w, pt, b.List, a.List)
			fmt.Fprintln(w, "        ]")
		default:
			fmt.Fprintf(w, "      %s %-*s = %s -> %s\n", pt.action(Update, "~"), width, k, render(b), render(a))
		}
	}
	fmt.Fprintln(w, "    }")
	for _, r := range c.Reasons {
		fmt.Fprintf(w, "    # because %s\n", Escape(r, false))
	}
}

func boolKeys(m map[string]bool) providers.Value {
	v := providers.Value{}
	for k := range m {
		v[k] = providers.Attr{}
	}
	return v
}

func writeAttr(w io.Writer, pt painter, a Action, k string, width int, v providers.Attr) {
	if v.Known() && strings.Contains(v.Str, "\n") {
		fmt.Fprintf(w, "      %s %-*s = <<EOT\n", pt.action(a, a.Glyph()), width, k)
		for _, l := range strings.Split(strings.TrimSuffix(v.Str, "\n"), "\n") {
			fmt.Fprintf(w, "            %s\n", Escape(l, false))
		}
		fmt.Fprintln(w, "        EOT")
		return
	}
	fmt.Fprintf(w, "      %s %-*s = %s\n", pt.action(a, a.Glyph()), width, k, render(v))
}

func render(v providers.Attr) string {
	switch {
	case !v.Known():
		return "(known after " + v.Unknown + ")"
	case v.IsList:
		q := make([]string, len(v.List))
		for i, s := range v.List {
			q[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	return strconv.Quote(v.Str)
}

// writeListDiff shows a list's change in order, as a diff of its items
// (a policy's lines read as the file does): kept items plain, removed
// ones with -, added ones with + where they go.
func writeListDiff(w io.Writer, pt painter, before, after []string) {
	for _, op := range difflib.NewMatcher(before, after).GetOpCodes() {
		if op.Tag == 'e' {
			for _, s := range before[op.I1:op.I2] {
				fmt.Fprintf(w, "            %q,\n", s)
			}
			continue
		}
		for _, s := range before[op.I1:op.I2] {
			fmt.Fprintf(w, "          %s %q,\n", pt.action(Delete, "-"), s)
		}
		for _, s := range after[op.J1:op.J2] {
			fmt.Fprintf(w, "          %s %q,\n", pt.action(Create, "+"), s)
		}
	}
}

// writeLineDiff shows changed lines of a file with two lines of context.
func writeLineDiff(w io.Writer, pt painter, before, after string) {
	a := difflib.SplitLines(before)
	b := difflib.SplitLines(after)
	m := difflib.NewMatcher(a, b)
	for i, group := range m.GetGroupedOpCodes(2) {
		if i > 0 {
			fmt.Fprintln(w, "            ...")
		}
		for _, op := range group {
			switch op.Tag {
			case 'e':
				for _, l := range a[op.I1:op.I2] {
					fmt.Fprintf(w, "            %s", nl(l))
				}
			default:
				for _, l := range a[op.I1:op.I2] {
					fmt.Fprintf(w, "          %s %s", pt.action(Delete, "-"), nl(l))
				}
				for _, l := range b[op.J1:op.J2] {
					fmt.Fprintf(w, "          %s %s", pt.action(Create, "+"), nl(l))
				}
			}
		}
	}
}

// nl is one line of a file as printed: escaped, ending in a newline.
func nl(s string) string {
	return Escape(strings.TrimSuffix(s, "\n"), false) + "\n"
}
