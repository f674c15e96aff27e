package plan

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/providers"
)

// MarkdownLimit keeps a plan comment under GitHub's 65,536-character limit
// for comments, with room for a header the CI adds around it.
const MarkdownLimit = 60000

// Warning is a step that can hurt if it is wrong, highlighted for review.
type Warning struct {
	Step int
	Text string
}

// Warnings lists the risky steps of a plan: TLSA records removed, keys
// changed, HSTS preload or includeSubDomains switched on, APT keys replaced,
// and whatever cannot be undone (a revocation). Each text is Markdown, and
// what it quotes of the plan is escaped for it (code, MarkdownText).
func Warnings(p *Plan) []Warning {
	var out []Warning
	changes := make(map[string]*Change, len(p.Changes))
	for i := range p.Changes {
		changes[p.Changes[i].Address] = &p.Changes[i]
	}
	for _, s := range p.Steps {
		c := changes[s.Address]
		addr := code(s.Address)
		switch {
		case s.Irreversible:
			out = append(out, Warning{s.Index, fmt.Sprintf("%s **cannot be undone**%s: %s.", addr, byRule(s.Rule), MarkdownText(strings.TrimSuffix(s.Description, ": this cannot be undone")))})
		case s.Phase == "prune" || (strings.HasPrefix(s.Address, "tlsa.") && c != nil && c.Action == Delete):
			out = append(out, Warning{s.Index, fmt.Sprintf("%s removes TLSA records: clients that cached them must already accept the new certificate%s.", addr, byRule(s.Rule))})
		case s.Phase == "issue-new-key" || ((s.Phase == "deploy-next" || s.Phase == "issue") && c != nil && c.Action == Replace):
			// the step that makes the server's key change, not the staging of one
			out = append(out, Warning{s.Index, fmt.Sprintf("%s changes its private key (%s).", addr, MarkdownText(strings.Join(reasonsOf(c), "; ")))})
		case c != nil && providers.Adopts(c.Before) && s.Phase == "write":
			file := cmp.Or(c.After["config_file"].Str, c.After["file"].Str)
			msg := fmt.Sprintf("%s **adopts and replaces** %s, a file trustform did not write (its content is not shown here): the old file is kept as %s.", addr, code(file), code(file+host.BackupSuffix))
			if hstsSwitchedOn(c) {
				msg += fmt.Sprintf(" It also switches on %s.", code(c.After["hsts"].Str))
			}
			out = append(out, Warning{s.Index, msg})
		case strings.HasPrefix(s.Address, "vhost.") && c != nil && hstsSwitchedOn(c):
			out = append(out, Warning{s.Index, fmt.Sprintf("%s switches on %s: browsers will refuse plain HTTP for the whole max-age%s.", addr, code(c.After["hsts"].Str), subdomains(c.After["hsts"].Str))})
		case strings.HasPrefix(s.Address, "apt_key.") && s.Phase == "write" && c != nil && c.Before != nil:
			out = append(out, Warning{s.Index, fmt.Sprintf("%s replaces the APT keyring %s (%s).", addr, MarkdownText(c.After["keyring"].Str), MarkdownText(strings.Join(reasonsOf(c), "; ")))})
		case strings.HasPrefix(s.Address, "mta_sts.") && s.Phase == "publish-id" && c != nil && slices.Contains(c.After["policy"].List, "mode: enforce"):
			out = append(out, Warning{s.Index, fmt.Sprintf("%s announces a policy in `enforce` mode: for its max_age, senders that fetched it refuse to deliver to an MX it does not cover or that lacks a certificate valid for its name (rule %s).", addr, code(s.Rule))})
		case strings.HasPrefix(s.Address, "mta_sts.") && s.Phase == "publish-id" && c != nil && slices.Contains(c.After["policy"].List, "mode: none"):
			out = append(out, Warning{s.Index, fmt.Sprintf("%s retires MTA-STS: `mode: none` tells senders to drop the policy they keep.", addr)})
		case strings.HasPrefix(s.Address, "caa.") && c != nil:
			out = append(out, Warning{s.Index, fmt.Sprintf("%s changes who may issue certificates: %s.", addr, MarkdownText(strings.Join(reasonsOf(c), "; ")))})
		case s.Phase == "remove-legacy":
			out = append(out, Warning{s.Index, fmt.Sprintf("%s removes the key from the global APT keyrings.", addr)})
		}
	}
	return out
}

// MarkReview flags the steps Warnings lists, for the JSON plan.
func MarkReview(p *Plan) {
	for _, w := range Warnings(p) {
		p.Steps[w.Step-1].Review = true
	}
}

// byRule names the rule that placed a step, if one did.
func byRule(rule string) string {
	if rule == "" {
		return ""
	}
	return " (rule " + code(rule) + ")"
}

func reasonsOf(c *Change) []string {
	if c == nil {
		return nil
	}
	return c.Reasons
}

// hstsSwitchedOn: preload or includeSubDomains appears in the header.
func hstsSwitchedOn(c *Change) bool {
	after := c.After["hsts"].Str
	before := ""
	if c.Before != nil {
		before = c.Before["hsts"].Str
	}
	for _, token := range []string{"preload", "includeSubDomains"} {
		if strings.Contains(after, token) && !strings.Contains(before, token) {
			return true
		}
	}
	return false
}

func subdomains(h string) string {
	if strings.Contains(h, "includeSubDomains") {
		return ", on every subdomain too"
	}
	return ""
}

// WriteMarkdown renders the plan as a pull-request comment: a verdict, a
// summary table, the warnings, the ordered steps, and the details folded
// away. Past MarkdownLimit the details are cut, never the warnings, and the
// comment says so.
func WriteMarkdown(w io.Writer, p *Plan) error {
	var head strings.Builder
	warnings := Warnings(p)
	fmt.Fprintf(&head, "### trustform plan: %s\n\n", verdict(p, len(warnings)))
	if !p.HasChanges() {
		writeDiagnostics(&head, p)
		_, err := io.WriteString(w, head.String())
		return err
	}
	s := p.Summary
	fmt.Fprintf(&head, "| create | update | replace | delete | wait |\n|---:|---:|---:|---:|---:|\n| %d | %d | %d | %d | %d |\n\n", s.Create, s.Update, s.Replace, s.Delete, s.Wait)
	if len(p.Replace)+len(p.Targets) > 0 || p.Revoke != "" {
		fmt.Fprintf(&head, "Planned with %s\n\n", code(Options(p.Replace, p.Revoke, p.Targets)))
	}
	writeDiagnostics(&head, p)
	if len(warnings) > 0 {
		head.WriteString("> [!WARNING]\n> **Review these steps with care:**\n")
		head.WriteString(reviewList(p, warnings))
		head.WriteString("\n")
	}
	if len(p.StateRepairs) > 0 {
		addrs := make([]string, len(p.StateRepairs))
		for i, c := range p.StateRepairs {
			addrs[i] = code(c.Address)
		}
		fmt.Fprintf(&head, "> [!NOTE]\n> **State repairs:** the state of %s disagrees with a world that needs no change; apply rewrites it from what is live and changes nothing else.\n\n", strings.Join(addrs, ", "))
	}
	if len(p.Forgets) > 0 {
		addrs := make([]string, len(p.Forgets))
		for i, a := range p.Forgets {
			addrs[i] = code(a)
		}
		fmt.Fprintf(&head, "> [!NOTE]\n> **Forgotten:** %s leave trustform's state; what they managed stays in place.\n\n", strings.Join(addrs, ", "))
	}
	if len(p.Imports) > 0 {
		head.WriteString("> [!IMPORTANT]\n> **Imports:** trustform takes these over as they are (import blocks); apply records them in state:\n")
		for _, c := range p.Imports {
			fmt.Fprintf(&head, "> - %s (%s)\n", code(c.Address), code(strings.Join(c.Reasons, "; ")))
		}
		head.WriteString("\n")
	}
	var steps strings.Builder
	if p.Mode != "refresh-only" && len(p.Steps) > 0 {
		steps.WriteString("#### Steps, in order\n\n| # | | resource | phase | after | rule | not before |\n|---:|---|---|---|---|---|---|\n")
		room := MarkdownLimit - head.Len() - detailsFloor
		for i, st := range p.Steps {
			if steps.Len() > room-200 {
				fmt.Fprintf(&steps, "| … | | %d more steps: `trustform show PLANFILE` lists them | | | | |\n", len(p.Steps)-i)
				break
			}
			nb := ""
			if st.NotBefore != nil {
				nb = st.NotBefore.UTC().Format(time.RFC3339)
			}
			phase := st.Phase
			if st.Irreversible {
				phase += " **(irreversible)**"
			}
			fmt.Fprintf(&steps, "| %d | `%s` | %s | %s | %s | %s | %s |\n", st.Index, st.Action.Glyph(), code(st.Address), phase, joinInts(st.DependsOn), code(st.Rule), nb)
		}
		steps.WriteString("\n")
		if g := gantt(p); len(p.Steps) <= ganttSteps && head.Len()+steps.Len()+len(g) < MarkdownLimit-detailsFloor {
			steps.WriteString(g) // a chart of hundreds of steps shows nothing
		}
	}
	var diff strings.Builder
	for _, c := range p.Changes {
		var one strings.Builder
		fmt.Fprintf(&one, "# %s: %s\n", c.Address, c.Action)
		writeChange(&one, c, painter{})
		diff.WriteString(diffPrefix(one.String()))
	}
	for _, c := range p.StateRepairs {
		var one strings.Builder
		fmt.Fprintf(&one, "# %s: state repair\n", c.Address)
		writeChange(&one, c, painter{})
		diff.WriteString(diffPrefix(one.String()))
	}
	f := fence(diff.String())
	var details strings.Builder
	if diff.Len() > 0 {
		details.WriteString("<details><summary>Changes in detail</summary>\n\n" + f + "diff\n")
		details.WriteString(diff.String())
		details.WriteString(f + "\n\n</details>\n")
	}

	out := head.String() + steps.String() + details.String()
	if len(out) > MarkdownLimit {
		out = head.String() + steps.String() + truncate(details.String(), f, MarkdownLimit-head.Len()-steps.Len())
	}
	_, err := io.WriteString(w, out)
	return err
}

// writeDiagnostics lists every warning of the plan (a block removed, a
// server lagging, a rule's live finding): a comment that leaves one out
// tells less than the terminal does.
func writeDiagnostics(b *strings.Builder, p *Plan) {
	type seen struct {
		line  string
		count int
	}
	var lines []*seen
	index := map[string]*seen{}
	for _, d := range p.Diagnostics {
		if d.Severity != "warning" {
			continue
		}
		line := "**" + MarkdownText(d.Summary) + "**"
		if d.Detail != "" {
			line += ": " + MarkdownText(strings.Join(strings.Fields(d.Detail), " "))
		}
		if s := index[line]; s != nil { // the same warning once, counted
			s.count++
			continue
		}
		index[line] = &seen{line, 1}
		lines = append(lines, index[line])
	}
	if len(lines) == 0 {
		return
	}
	b.WriteString("> [!CAUTION]\n> **Warnings:**\n")
	start := b.Len()
	for i, s := range lines {
		if b.Len()-start > diagnosticsBudget {
			fmt.Fprintf(b, "> - … and %d more warnings: `trustform show PLANFILE` prints them all\n", len(lines)-i)
			break
		}
		fmt.Fprintf(b, "> - %s", s.line)
		if s.count > 1 {
			fmt.Fprintf(b, " (×%d)", s.count)
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

// Budgets of a comment's parts (MarkdownLimit in all): the warnings and the
// steps to review come first and are never cut, but grouped or capped
// past these; the steps table takes what is left but detailsFloor, which
// the folded details keep; the Gantt chart is drawn for small plans only.
const (
	diagnosticsBudget = 15000
	reviewBudget      = 15000
	detailsFloor      = 2000
	ganttSteps        = 60
)

// reviewList is the steps to review with care, one line each; past
// reviewBudget the steps that say the same of different resources share
// a line, and past it again the rest is counted.
func reviewList(p *Plan, warnings []Warning) string {
	var b strings.Builder
	for _, wn := range warnings {
		fmt.Fprintf(&b, "> - step %d: %s\n", wn.Step, wn.Text)
	}
	if b.Len() <= reviewBudget {
		return b.String()
	}
	type group struct {
		steps []int
		addrs []string
		text  string
	}
	var groups []*group
	byTemplate := map[string]*group{}
	for _, wn := range warnings {
		addr := code(p.Steps[wn.Step-1].Address)
		tmpl := strings.Replace(wn.Text, addr, "\x00", 1)
		g := byTemplate[tmpl]
		if g == nil {
			g = &group{text: tmpl}
			byTemplate[tmpl] = g
			groups = append(groups, g)
		}
		g.steps, g.addrs = append(g.steps, wn.Step), append(g.addrs, addr)
	}
	b.Reset()
	for i, g := range groups {
		if b.Len() > reviewBudget {
			n := 0
			for _, rest := range groups[i:] {
				n += len(rest.steps)
			}
			fmt.Fprintf(&b, "> - … and %d more steps to review: `trustform show PLANFILE` lists them\n", n)
			break
		}
		if len(g.steps) == 1 {
			fmt.Fprintf(&b, "> - step %d: %s\n", g.steps[0], strings.Replace(g.text, "\x00", g.addrs[0], 1))
			continue
		}
		shown := min(len(g.addrs), 5)
		who := strings.Join(g.addrs[:shown], ", ")
		if shown < len(g.addrs) {
			who += fmt.Sprintf(" and %d more", len(g.addrs)-shown)
		}
		steps := joinInts(g.steps[:min(len(g.steps), 10)])
		if len(g.steps) > 10 {
			steps += ", …"
		}
		fmt.Fprintf(&b, "> - %d steps (%s): %s\n", len(g.steps), steps, strings.Replace(g.text, "\x00", who, 1))
	}
	return b.String()
}

func warningCount(p *Plan) int {
	n := 0
	for _, d := range p.Diagnostics {
		if d.Severity == "warning" {
			n++
		}
	}
	return n
}

// truncate cuts the steps and details to fit in room characters (never the
// verdict, summary or warnings before them), at a line end, closing the
// folded block and saying that it was cut.
func truncate(body, fence string, room int) string {
	open := "<details><summary>Changes in detail</summary>\n\n" + fence + "diff\n"
	note := fence + "\n\n*Truncated: the full plan is longer than a comment may be. `trustform show PLANFILE` prints all of it.*\n\n</details>\n"
	keep := max(room-len(note)-len(open), 0)
	cut := body[:min(keep, len(body))]
	if i := strings.LastIndex(cut, "\n"); i >= 0 {
		cut = cut[:i+1]
	}
	if !strings.Contains(cut, fence+"diff") {
		cut += open
	}
	return cut + note
}

func verdict(p *Plan, warnings int) string {
	switch {
	case p.Mode == "refresh-only" && len(p.Changes) == 0 && warningCount(p) == 0:
		return "no drift ✅"
	case p.Mode == "refresh-only" && len(p.Changes) == 0:
		return fmt.Sprintf("no drift, %d warning(s) ⚠️", warningCount(p))
	case p.Mode == "refresh-only":
		return fmt.Sprintf("drift in %d resource(s) ⚠️", len(p.Changes))
	case !p.HasChanges() && warningCount(p) == 0:
		return "no changes ✅"
	case !p.HasChanges():
		return fmt.Sprintf("no changes, %d warning(s) ⚠️", warningCount(p))
	}
	v := fmt.Sprintf("%d step(s) to apply", len(p.Steps))
	if p.Summary.Wait > 0 {
		v += fmt.Sprintf(", %d behind a time gate", p.Summary.Wait)
	}
	if p.Summary.Repair > 0 {
		v += fmt.Sprintf(", %d state entr%s to repair", p.Summary.Repair, plural(p.Summary.Repair, "y", "ies"))
	}
	if p.Summary.Import > 0 {
		v += fmt.Sprintf(", %d to import", p.Summary.Import)
	}
	if n := len(p.Forgets); n > 0 {
		v += fmt.Sprintf(", %d to forget", n)
	}
	if warnings > 0 {
		v += fmt.Sprintf(", %d to review with care ⚠️", warnings)
	}
	return v
}

// diffPrefix turns the text rendering's glyphs into diff markers so GitHub
// colours them.
func diffPrefix(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		t := strings.TrimLeft(l, " ")
		switch {
		case strings.HasPrefix(t, "+ "):
			b.WriteString("+" + l[1:] + "\n")
		case strings.HasPrefix(t, "- "):
			b.WriteString("-" + l[1:] + "\n")
		case strings.HasPrefix(t, "~ "), strings.HasPrefix(t, "± "):
			b.WriteString("!" + l[1:] + "\n")
		default:
			b.WriteString(" " + l + "\n")
		}
	}
	return b.String()
}

// code is s as a Markdown code span that nothing in s can close or break
// out of: control characters escaped, a delimiter longer than any backtick
// run in s, and | escaped (GFM ends a table cell there, even in a span).
func code(s string) string {
	if s == "" {
		return ""
	}
	s = strings.ReplaceAll(Escape(s, false), "|", `\|`)
	d := strings.Repeat("`", longestBackticks(s)+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return d + " " + s + " " + d
	}
	return d + s + d
}

func joinInts(l []int) string {
	parts := make([]string, len(l))
	for i, n := range l {
		parts[i] = fmt.Sprint(n)
	}
	return strings.Join(parts, ", ")
}
