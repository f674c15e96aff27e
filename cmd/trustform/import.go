package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/kinds"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

const importUsage = `Usage: trustform import SOURCE [PATH…] -out=FILE [options]

Reads what exists on this machine and writes the blocks that declare it to
FILE (formatted HCL, in the configuration directory), then records them in
state as they are, so that the next plan starts from what is there: no
certificate re-issued, no key regenerated, no hand-written file rewritten
while it says what its block says. Nothing is written on any server.

Sources (each with its default PATH):
%s
Import certbot first: the other sources tie what they find to the
certificate blocks of the configuration (by the files a server reads, by
the key a TLSA record pins).

Options:
`

func cmdImport(args []string, chdir string, e env) int {
	var c common
	fs := newFlagSet("import", e.stderr, chdir, &c)
	out := fs.String("out", "", "the file the blocks are written to (it must not exist yet)")
	caRoots := fs.String("ca-roots", "", "certbot: a file of the roots the certificates chain to, beside the system's (a private or test CA): the acme_account's ca_roots")
	testCmd := fs.String("test-command", "", "nginx, apache, postfix, dovecot: the server's configuration test, where it is not the default")
	reloadCmd := fs.String("reload-command", "", "nginx, apache, postfix, dovecot: the server's reload, where it is not the default")
	importers := kinds.Importers()
	fs.Usage = func() {
		var b strings.Builder
		for _, im := range importers {
			fmt.Fprintf(&b, "  %-8s %s (%s)\n", im.Source, im.About, cmp.Or(strings.Join(im.Defaults, " "), "dns_zone.NAME"))
		}
		fmt.Fprintf(e.stderr, importUsage, b.String())
		fs.PrintDefaults()
	}
	// SOURCE and PATHs come first; the flags follow them.
	var pos []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		pos, args = append(pos, args[0]), args[1:]
	}
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	pos = append(pos, fs.Args()...)
	if len(pos) == 0 {
		fs.Usage()
		return 1
	}
	var im *providers.Importer
	for i := range importers {
		if importers[i].Source == pos[0] {
			im = &importers[i]
		}
	}
	switch {
	case im == nil:
		var names []string
		for _, im := range importers {
			names = append(names, im.Source)
		}
		return errorf(e, "import: unknown source %q (%s)", pos[0], strings.Join(names, ", "))
	case *out == "":
		return errorf(e, "import: -out=FILE is required: the file the blocks are written to")
	case !strings.HasSuffix(*out, ".hcl"):
		return errorf(e, "import: -out must name a .hcl file of the configuration directory")
	}
	if _, err := os.Lstat(*out); err == nil || !errors.Is(err, os.ErrNotExist) {
		return errorf(e, "import: %s exists already: name a new file (nothing is overwritten)", *out)
	}
	in := providers.ImportInput{Paths: pos[1:], CARoots: *caRoots, TestCommand: *testCmd, ReloadCommand: *reloadCmd}
	if len(in.Paths) == 0 {
		in.Paths = im.Defaults
	}
	for i, p := range in.Paths {
		if abs, err := filepath.Abs(p); err == nil && im.Source != "zone" {
			in.Paths[i] = abs
		}
	}
	ctx, cancel := interruptible()
	defer cancel()
	if code := c.known(ctx, e, im.Source, &in); code != 0 {
		return code
	}
	found, err := im.Read(ctx, in)
	if err != nil {
		return errorf(e, "import %s: %v", im.Source, err)
	}
	if len(found.Blocks) == 0 {
		for _, n := range found.Notes {
			fmt.Fprintln(e.stderr, "Note: "+n)
		}
		return errorf(e, "import %s: found nothing to import", im.Source)
	}
	if err := os.WriteFile(*out, hclOf(found.Blocks), 0o644); err != nil {
		return errorf(e, "%v", err)
	}
	// Recorded as they are, under the lock; a configuration the blocks do
	// not make valid leaves nothing behind.
	var addrs []schema.Address
	for _, b := range found.Blocks {
		if b.Resource {
			addrs = append(addrs, schema.Address{Type: b.Type, Name: b.Name})
		}
	}
	s, _, ok := open(ctx, e, &c, "import", engine.Options{Targets: addrs})
	if !ok {
		os.Remove(*out)
		return errorf(e, "import: the blocks found do not make a valid configuration with the others; %s is not kept", *out)
	}
	defer s.close()
	done, diags := s.run.Import(addrs)
	printDiags(e, &c, s.cfg, diags, false)
	if len(done) > 0 {
		if err := s.save(s.st); err != nil {
			return errorf(e, "%v", err)
		}
	}
	fmt.Fprintf(e.stdout, "Wrote %d blocks to %s and imported %d resources into state:\n", len(found.Blocks), *out, len(done))
	for _, a := range done {
		fmt.Fprintln(e.stdout, "  "+a)
	}
	for _, n := range found.Notes {
		fmt.Fprintln(e.stdout, "\nNote: "+n)
	}
	fmt.Fprintln(e.stdout, "\nNext: trustform plan (it should have nothing to do, or only what a rule demands, each step naming it).")
	if diags.HasErrors() {
		return 1
	}
	return 0
}

// known fills what an import ties its blocks to: the certificates of the
// configuration, and for a zone its records. A directory without a
// configuration yet has none (certbot's import starts one).
func (c *common) known(ctx context.Context, e env, source string, in *providers.ImportInput) int {
	if m, _ := filepath.Glob("*.hcl"); len(m) == 0 {
		if source == "zone" {
			return errorf(e, "import zone: name a dns_zone of the configuration (dns_zone.NAME); this directory has no configuration yet")
		}
		return 0
	}
	s, code := readOnlyWith(e, c, engine.Options{Generating: true})
	if s == nil {
		return code
	}
	defer s.close()
	held, err := s.run.Inventory(ctx)
	if err != nil {
		return errorf(e, "%v", err)
	}
	for _, h := range held {
		in.Certs = append(in.Certs, providers.HeldCert{Addr: h.Address, CertFile: s.cfg.LocalPath(schema.Ref{}, h.CertFile), KeyFile: s.cfg.LocalPath(schema.Ref{}, h.KeyFile), SPKI: h.SPKISHA256, Leaf: h.LeafSHA256})
	}
	if source != "zone" {
		return 0
	}
	if len(in.Paths) != 1 {
		return errorf(e, "import zone: name one dns_zone of the configuration: trustform import zone dns_zone.NAME -out=FILE")
	}
	a, err := schema.ParseAddress(in.Paths[0])
	if err != nil || a.Type != "dns_zone" || s.cfg.Block(a) == nil {
		return errorf(e, "import zone: %s is not a dns_zone of this configuration", in.Paths[0])
	}
	in.Zone = a.String()
	records, err := s.run.ZoneRecords(ctx, a)
	if err != nil {
		return errorf(e, "import zone: %v", err)
	}
	for _, r := range records {
		if f := strings.Fields(r); len(f) > 3 && f[3] == "SOA" {
			in.Origin = f[0]
		}
	}
	in.Records = func(context.Context) ([]string, error) { return records, nil }
	return 0
}

// hclOf writes found blocks as formatted HCL.
func hclOf(blocks []providers.Found) []byte {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	for i, b := range blocks {
		if i > 0 {
			body.AppendNewline()
		}
		writeFound(body, b)
	}
	return hclwrite.Format(f.Bytes())
}

func writeFound(body *hclwrite.Body, b providers.Found) {
	var labels []string
	if b.Name != "" {
		labels = []string{b.Name}
	}
	blk := body.AppendNewBlock(b.Type, labels).Body()
	for _, a := range b.Attrs {
		if a.Ref != "" {
			typ, name, _ := strings.Cut(a.Ref, ".")
			blk.SetAttributeTraversal(a.Name, hcl.Traversal{hcl.TraverseRoot{Name: typ}, hcl.TraverseAttr{Name: name}})
			continue
		}
		blk.SetAttributeValue(a.Name, a.Value)
	}
	for _, nested := range b.Blocks {
		writeFound(blk, nested)
	}
}

// generateConfig writes, for each import block whose target has no block,
// the block its kind's importer reads from the import's id, renamed to
// the target, with the blocks it refers to that the configuration lacks
// (plan -generate-config-out, as Terraform 1.5 has it).
func generateConfig(ctx context.Context, e env, c *common, out string) int {
	if _, err := os.Lstat(out); err == nil {
		return errorf(e, "-generate-config-out: %s exists already: name a new file (nothing is overwritten)", out)
	}
	cfg, diags := c.load(e)
	if diags.HasErrors() {
		printDiags(e, c, cfg, diags, false)
		return 1
	}
	missing := cfg.Undeclared()
	if len(missing) == 0 {
		return 0
	}
	var blocks []providers.Found
	declared := func(typ, name string) bool {
		if cfg.Block(schema.Address{Type: typ, Name: name}) != nil {
			return true
		}
		return slices.ContainsFunc(blocks, func(f providers.Found) bool { return f.Type == typ && f.Name == name })
	}
	// Certificates first: the vhosts and services found next are tied to
	// them by their files.
	slices.SortStableFunc(missing, func(a, b *schema.Import) int {
		return map[bool]int{true: 0, false: 1}[a.To.Type == "certificate"] - map[bool]int{true: 0, false: 1}[b.To.Type == "certificate"]
	})
	var generated []providers.HeldCert
	for _, im := range missing {
		found, err := c.readForImport(ctx, e, im, generated)
		if err != nil {
			return errorf(e, "-generate-config-out: %s (id %q): %v", im.To, im.ID, err)
		}
		i := slices.IndexFunc(found.Blocks, func(f providers.Found) bool { return f.Type == im.To.Type && matchesID(f, im.ID) })
		if i < 0 {
			return errorf(e, "-generate-config-out: %s: nothing at %q is a %s (%s)", im.To, im.ID, im.To.Type, strings.Join(found.Notes, "; "))
		}
		target := found.Blocks[i]
		target.Name = im.To.Name
		var add func(f providers.Found)
		add = func(f providers.Found) {
			for _, a := range f.Attrs {
				typ, name, _ := strings.Cut(a.Ref, ".")
				if a.Ref == "" || declared(typ, name) {
					continue
				}
				for _, g := range found.Blocks {
					if g.Type == typ && g.Name == name {
						blocks = append(blocks, g)
						add(g)
					}
				}
			}
		}
		add(target)
		blocks = append(blocks, target)
		if target.Type == "certificate" {
			hc := providers.HeldCert{Addr: "certificate." + target.Name}
			for _, a := range target.Attrs {
				switch a.Name {
				case "cert_file":
					hc.CertFile = a.Value.AsString()
				case "key_file":
					hc.KeyFile = a.Value.AsString()
				}
			}
			generated = append(generated, hc)
		}
	}
	text := append([]byte("# __generated__ by trustform plan -generate-config-out from the import blocks: review it, then keep it\n\n"), hclOf(blocks)...)
	if err := os.WriteFile(out, text, 0o644); err != nil {
		return errorf(e, "%v", err)
	}
	fmt.Fprintf(e.stderr, "Wrote the blocks of %d import targets (%d blocks) to %s.\n", len(missing), len(blocks), out)
	return 0
}

// readForImport runs the importer that reads an import block's id: the
// certbot configuration above a live directory, a site file, Postfix's
// directory or Dovecot's file.
func (c *common) readForImport(ctx context.Context, e env, im *schema.Import, generated []providers.HeldCert) (providers.Imported, error) {
	source, path := "", im.ID
	st, err := os.Stat(im.ID)
	if err != nil {
		return providers.Imported{}, err
	}
	switch im.To.Type {
	case "certificate":
		source, path = "certbot", filepath.Dir(filepath.Dir(filepath.Clean(im.ID))) // …/live/NAME
	case "vhost":
		source = "nginx"
		if b, err := os.ReadFile(im.ID); err == nil && strings.Contains(strings.ToLower(string(b)), "<virtualhost") {
			source = "apache"
		}
	case "service":
		source = "dovecot"
		if st.IsDir() {
			source = "postfix"
		}
	default:
		return providers.Imported{}, fmt.Errorf("no configuration is generated for a %s: write its block", im.To.Type)
	}
	in := providers.ImportInput{Paths: []string{path}}
	if code := c.known(ctx, e, source, &in); code != 0 {
		return providers.Imported{}, errors.New("the configuration's certificates could not be read")
	}
	in.Certs = append(in.Certs, generated...)
	for _, imp := range kinds.Importers() {
		if imp.Source == source {
			return imp.Read(ctx, in)
		}
	}
	return providers.Imported{}, fmt.Errorf("no importer for %s", source)
}

// matchesID reports whether a found block is the one an import's id
// names: a certificate whose files are under it, a vhost of that file.
func matchesID(f providers.Found, id string) bool {
	for _, a := range f.Attrs {
		if a.Ref != "" || a.Value.Type() != cty.String {
			continue
		}
		v := a.Value.AsString()
		switch {
		case f.Type == "certificate" && a.Name == "cert_file" && strings.HasPrefix(v, filepath.Clean(id)+"/"):
			return true
		case f.Type == "vhost" && a.Name == "config_file" && v == filepath.Clean(id):
			return true
		}
	}
	return f.Type == "service"
}
