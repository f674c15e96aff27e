package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/kinds"
	"github.com/trustform/trustform/schema"
)

// showInventory prints, per certificate, what it holds and where it is
// used: the picture an incident (a leaked key) starts from. It reads the
// deployed files and takes no lock.
func showInventory(e env, c *common, asJSON, asMarkdown bool, key, expiresWithin, onHost string) int {
	var within time.Duration
	if expiresWithin != "" {
		d, err := schema.ParseDuration(expiresWithin)
		if err != nil {
			return errorf(e, "-expires-within: %v", err)
		}
		within = d
	}
	s, code := readOnly(e, c)
	if s == nil {
		return code
	}
	defer s.close()
	now := e.clock()
	all, err := s.run.Inventory(context.Background())
	if err != nil {
		return errorf(e, "%v", err)
	}
	held := engine.Filter{Key: key, Within: within, Host: onHost}.Select(all, now())
	switch {
	case asJSON:
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return errIf(e, enc.Encode(inventoryJSON{FormatVersion: "1.0", Certificates: held}))
	case asMarkdown:
		writeInventoryMarkdown(e, held)
	default:
		writeInventoryText(e, held, s.st)
	}
	return 0
}

// readOnly is a session of show: the configuration bound to its state,
// without the lock (it writes nothing); nil with the exit code when it
// said why not.
func readOnly(e env, c *common) (*session, int) { return readOnlyWith(e, c, engine.Options{}) }

// readOnlyWith is readOnly with the engine's options.
func readOnlyWith(e env, c *common, opts engine.Options) (*session, int) {
	cfg, diags := c.load(e)
	if diags.HasErrors() {
		printDiags(e, c, cfg, diags, false)
		return nil, 1
	}
	store, err := c.store(e, cfg)
	if err != nil {
		return nil, errorf(e, "%v", err)
	}
	st, err := store.Load(context.Background())
	if err != nil {
		store.Close()
		return nil, errorf(e, "%v", err)
	}
	opts.Now = e.clock()
	run, d := engine.New(cfg, st, kinds.Bind, opts)
	if d.HasErrors() {
		store.Close()
		printDiags(e, c, cfg, d, false)
		return nil, 1
	}
	return &session{cfg: cfg, st: st, store: store, run: run}, 0
}

// inventoryJSON is show -json without a plan (docs/json.md).
type inventoryJSON struct {
	FormatVersion string           `json:"format_version"`
	Certificates  []engine.Holding `json:"certificates"`
}

func errIf(e env, err error) int {
	if err != nil {
		return errorf(e, "%v", err)
	}
	return 0
}

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format("2006-01-02 15:04 MST")
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, "; ")
}

func writeInventoryText(e env, held []engine.Holding, st *state.State) {
	if len(held) == 0 {
		fmt.Fprintln(e.stdout, "No certificate matches.")
		return
	}
	for i, h := range held {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		where := h.Host
		if where == "" {
			where = "this machine"
		}
		fmt.Fprintf(e.stdout, "# %s\n", h.Address)
		if h.NotAfter == nil {
			fmt.Fprintf(e.stdout, "    not deployed yet (%s)\n", strings.Join(h.Domains, ", "))
		}
		rows := [][2]string{
			{"domains", strings.Join(h.Domains, ", ")},
			{"key", h.KeyType + ", SPKI SHA-256 " + orDash(h.SPKISHA256)},
			{"key written", when(h.KeyWritten)},
			{"serial", orDash(h.Serial)},
			{"issuer", orDash(h.Issuer)},
			{"valid", when(h.NotBefore) + " to " + when(h.NotAfter)},
			{"renewal from", when(h.RenewFrom)},
			{"deployed", where + ": " + h.CertFile + ", " + h.KeyFile},
			{"used by", orNone(h.UsedBy)},
			{"pinned by", orNone(h.PinnedBy)},
		}
		if h.NextKey != "" {
			rows = append(rows, [2]string{"next key", "SPKI SHA-256 " + h.NextKey + " (staged, published ahead)"})
		}
		if len(h.ToRevoke) > 0 {
			rows = append(rows, [2]string{"to revoke", strings.Join(h.ToRevoke, ", ") + ": the certificates it replaced, revoked by the next apply"})
		}
		if r := st.Resources[h.Address]; r != nil {
			rows = append(rows, [2]string{"applied", r.AppliedAt.Format("2006-01-02 15:04 MST")})
		}
		for _, r := range rows {
			fmt.Fprintf(e.stdout, "    %-13s %s\n", r[0], r[1])
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeInventoryMarkdown(e env, held []engine.Holding) {
	fmt.Fprintf(e.stdout, "### trustform inventory: %d certificate(s)\n\n", len(held))
	fmt.Fprintln(e.stdout, "| certificate | domains | key (SPKI SHA-256) | serial | not after | deployed | used by | pinned by |")
	fmt.Fprintln(e.stdout, "|---|---|---|---|---|---|---|---|")
	cell := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ") }
	for _, h := range held {
		where := h.Host
		if where == "" {
			where = "local"
		}
		fmt.Fprintf(e.stdout, "| `%s` | %s | %s `%s` | `%s` | %s | %s `%s` | %s | %s |\n", cell(h.Address), cell(strings.Join(h.Domains, ", ")), h.KeyType, orDash(h.SPKISHA256),
			orDash(h.Serial), when(h.NotAfter), cell(where), cell(h.CertFile), cell(orNone(h.UsedBy)), cell(orNone(h.PinnedBy)))
	}
}
