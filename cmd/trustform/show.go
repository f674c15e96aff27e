package main

import (
	"os"

	"github.com/trustform/trustform/engine/plan"
)

func cmdShow(args []string, chdir string, e env) int {
	var c common
	fs := newFlagSet("show", e.stderr, chdir, &c)
	asJSON := fs.Bool("json", false, "print as JSON")
	asMarkdown := fs.Bool("markdown", false, "print a plan as a pull-request comment (Markdown)")
	key := fs.String("key", "", "inventory: only the certificate whose key has this SPKI SHA-256 (hex, as a 3 1 1 record carries it)")
	expiresWithin := fs.String("expires-within", "", "inventory: only certificates that expire within this duration (\"30d\")")
	onHost := fs.String("host", "", "inventory: only certificates deployed to this host (host.NAME or NAME; local for this machine)")
	asHTML := fs.Bool("html", false, "print the status page: one self-contained HTML file of the certificates, their expiries and renewal windows, the DANE matrix, pending gates and revocations, drift and the last runs (observes as plan does, writes nothing)")
	metricsFile := fs.String("metrics-file", "", "html: read the last runs from this metrics file (the one plan and apply -metrics-file write)")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	if *asHTML {
		if fs.NArg() > 0 || *asJSON || *asMarkdown {
			return errorf(e, "-html takes no plan file and goes with neither -json nor -markdown")
		}
		return showHTML(e, &c, *metricsFile)
	}
	if fs.NArg() == 0 { // no plan: the inventory of certificates
		return showInventory(e, &c, *asJSON, *asMarkdown, *key, *expiresWithin, *onHost)
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
	p.Tally() // the file's own summary is not believed
	if *asJSON {
		if err := plan.WriteJSON(planOut(e), p); err != nil {
			return errorf(e, "%v", err)
		}
		return 0
	}
	if *asMarkdown {
		if err := writeMarkdown(e, p); err != nil {
			return errorf(e, "%v", err)
		}
		return 0
	}
	writeText(e, &c, p)
	return 0
}
