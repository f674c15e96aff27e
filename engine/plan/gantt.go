package plan

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// gantt draws, for a plan whose rollovers wait at time gates, a Mermaid
// gantt chart (GitHub renders it in pull-request comments): one section per
// gated step's resource, its steps in order, the wait until "not before"
// as a bar of its own. Steps are drawn a minute long: they take seconds;
// what the chart shows is the waiting. "" when nothing waits.
func gantt(p *Plan) string {
	var gated []Step
	for _, s := range p.Steps {
		if s.NotBefore != nil {
			gated = append(gated, s)
		}
	}
	if len(gated) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("```mermaid\ngantt\n    title Rollover timeline (UTC)\n    dateFormat YYYY-MM-DDTHH:mm:ssZ\n    axisFormat %d %H:%M\n")
	start := p.CreatedAt.UTC().Truncate(time.Second)
	for _, g := range gated {
		fmt.Fprintf(&b, "    section %s\n", mermaidText(g.Address))
		for _, s := range related(p, g) {
			id := fmt.Sprintf("s%d", s.Index)
			var after []string
			for _, d := range s.DependsOn {
				after = append(after, fmt.Sprintf("s%d", d))
			}
			when := start.Format(time.RFC3339)
			if len(after) > 0 {
				when = "after " + strings.Join(after, " ")
			}
			if s.NotBefore != nil {
				fmt.Fprintf(&b, "    wait for step %d : w%d, %s, %s\n", s.Index, s.Index, when, s.NotBefore.UTC().Format(time.RFC3339))
				when = "after w" + fmt.Sprint(s.Index)
			}
			fmt.Fprintf(&b, "    %d %s %s : %s, %s, 1m\n", s.Index, mermaidText(s.Address), s.Phase, id, when)
		}
	}
	b.WriteString("```\n\n")
	return b.String()
}

// related is the steps a gated step waits for and the steps that wait for
// it, transitively, in plan order: its rollover.
func related(p *Plan, g Step) []Step {
	in := map[int]bool{g.Index: true}
	for changed := true; changed; {
		changed = false
		for _, s := range p.Steps {
			for _, d := range s.DependsOn {
				if in[s.Index] != in[d] && (in[s.Index] && s.Index <= g.Index || in[d] && s.Index > g.Index) {
					in[s.Index], in[d], changed = true, true, true
				}
			}
		}
	}
	var out []Step
	for _, s := range p.Steps {
		if in[s.Index] {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b Step) int { return a.Index - b.Index })
	return out
}

// mermaidText keeps a label from ending the task (":" and "#" mean
// something to Mermaid) or the chart.
func mermaidText(s string) string {
	return strings.NewReplacer(":", " ", "#", " ", ";", " ", "\n", " ", "`", "'", `"`, "'").Replace(s)
}
