package status

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"time"

	"github.com/trustform/trustform/providers"
)

// Page is what the status page shows.
type Page struct {
	Generated    time.Time
	Certificates []Certificate
	DANE         []providers.DANECell
	Gates        []Gate
	Revocations  []Revocation
	Drift        []providers.Finding
	Runs         []Run
}

// Certificate is one certificate of the inventory.
type Certificate struct {
	Address   string
	Domains   []string
	Issuer    string
	NotBefore *time.Time
	NotAfter  *time.Time
	RenewFrom *time.Time
	UsedBy    []string
	PinnedBy  []string
}

// Gate is a pending step held at a gate.
type Gate struct {
	Address, Phase string
	OpensAt        *time.Time // nil: when its records are served everywhere
}

// Revocation is a replaced certificate still to revoke.
type Revocation struct{ Address, Serial, Reason string }

// Run is a command's last run, as the metrics file records it.
type Run struct {
	Command string
	At      time.Time
	OK      bool
}

//go:embed page.html.tmpl
var templates embed.FS

// WriteHTML writes the page.
func WriteHTML(w io.Writer, p Page) error {
	t, err := template.New("page.html.tmpl").Funcs(template.FuncMap{
		"date":     func(t *time.Time) string { return formatDate(t) },
		"date_":    func(t time.Time) string { return formatDate(&t) },
		"sub":      func(x, w, renew float64) float64 { return math.Round(math.Max(0, x+w-renew)*10) / 10 },
		"timeline": func() timeline { return newTimeline(p) },
		"join":     joinList,
	}).ParseFS(templates, "page.html.tmpl")
	if err != nil {
		return err
	}
	return t.Execute(w, p)
}

func formatDate(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func joinList(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	s := l[0]
	for _, x := range l[1:] {
		s += "; " + x
	}
	return s
}

// timeline is the SVG of the certificates' lifetimes: one bar per
// certificate from not_before to not_after, its renewal window shaded,
// a line at now.
type timeline struct {
	Width, Height int
	Now           float64 // x of now
	Bars          []bar
	Ticks         []tick
}

type bar struct {
	Y                   int
	Label               string
	X, W, RenewX, TextY float64
	Expired             bool
	Title               string
}

type tick struct {
	X     float64
	Label string
}

const (
	labelWidth = 220
	plotWidth  = 760
	rowHeight  = 26
)

func newTimeline(p Page) timeline {
	start, end := p.Generated.Add(-30*24*time.Hour), p.Generated.Add(120*24*time.Hour)
	for _, c := range p.Certificates {
		if c.NotBefore != nil && c.NotBefore.Before(start) {
			start = *c.NotBefore
		}
		if c.NotAfter != nil && c.NotAfter.After(end) {
			end = *c.NotAfter
		}
	}
	span := end.Sub(start).Seconds()
	x := func(t time.Time) float64 {
		return labelWidth + math.Round(t.Sub(start).Seconds()/span*plotWidth*10)/10
	}
	tl := timeline{Width: labelWidth + plotWidth + 60, Now: x(p.Generated)}
	for i, c := range p.Certificates {
		b := bar{Y: 30 + i*rowHeight, Label: c.Address}
		b.TextY = float64(b.Y) + 14
		if c.NotBefore != nil && c.NotAfter != nil {
			b.X, b.W = x(*c.NotBefore), x(*c.NotAfter)-x(*c.NotBefore)
			b.RenewX = b.X + b.W
			if c.RenewFrom != nil {
				b.RenewX = x(*c.RenewFrom)
			}
			b.Expired = c.NotAfter.Before(p.Generated)
			b.Title = fmt.Sprintf("%s: valid %s to %s, renewal from %s", c.Address, formatDate(c.NotBefore), formatDate(c.NotAfter), formatDate(c.RenewFrom))
		}
		tl.Bars = append(tl.Bars, b)
	}
	tl.Height = 40 + len(p.Certificates)*rowHeight
	for m := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0); m.Before(end); m = m.AddDate(0, 1, 0) {
		tl.Ticks = append(tl.Ticks, tick{X: x(m), Label: m.Format("Jan 2006")})
	}
	return tl
}
