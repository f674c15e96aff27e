package schema

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// ConfigFiles lists the configuration files of dir in a stable order.
func ConfigFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") {
			continue
		}
		if strings.HasSuffix(n, ".hcl") || strings.HasSuffix(n, ".hcl.json") {
			names = append(names, filepath.Join(dir, n))
		}
	}
	sort.Strings(names)
	return names, nil
}

// Load reads every *.hcl and *.hcl.json file of dir, decodes and validates
// them, with variable values from in and the *.auto.vars files of dir. The
// Config is returned even with errors, so that diagnostics can be printed
// with their source.
func Load(dir string, in Inputs, kinds []Kind) (*Config, hcl.Diagnostics) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read configuration directory", Detail: err.Error()}}
	}
	names, err := ConfigFiles(abs)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read configuration directory", Detail: err.Error()}}
	}
	if len(names) == 0 {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail:   fmt.Sprintf("%s holds no *.hcl or *.hcl.json file.", abs),
		}}
	}
	srcs := make(map[string][]byte, len(names))
	for _, n := range names {
		path, err := configFile(abs, n)
		if err != nil {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read configuration file", Detail: err.Error()}}
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read configuration file", Detail: err.Error()}}
		}
		srcs[filepath.Base(n)] = b
	}
	auto, err := autoVars(abs)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read variables file", Detail: err.Error()}}
	}
	return ParseWith(abs, srcs, in, auto, kinds)
}

// configFile resolves a configuration file. A symlink is followed only to a
// configuration file inside the directory: diagnostics quote the source, so
// a link to a secret (or to anything outside) would print it.
func configFile(dir, name string) (string, error) {
	st, err := os.Lstat(name)
	if err != nil || st.Mode()&os.ModeSymlink == 0 {
		return name, err
	}
	target, err := filepath.EvalSymlinks(name)
	if err != nil {
		return "", err
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(realDir, target)
	inside := err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
	if !inside || !(strings.HasSuffix(target, ".hcl") || strings.HasSuffix(target, ".hcl.json")) {
		return "", fmt.Errorf("%s is a symbolic link to a file that is not a configuration file of %s; trustform reads no file through it", filepath.Base(name), dir)
	}
	return target, nil
}

// Parse decodes configuration sources given by file name (the base names
// used in diagnostics), as Load does for a directory, with no variable
// values from outside.
func Parse(dir string, srcs map[string][]byte, kinds []Kind) (*Config, hcl.Diagnostics) {
	return ParseWith(dir, srcs, Inputs{}, nil, kinds)
}

// topLevel are the blocks read before the others: their values are what
// the others' expressions are evaluated with.
var topLevel = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "variable", LabelNames: []string{"name"}}, {Type: "locals"}, {Type: "output", LabelNames: []string{"name"}}}}

// bigSource is the size of configuration (bytes) whose parse is worth a
// garbage collection before decoding: a fleet of thousands of blocks.
const bigSource = 1 << 20

// ParseWith is Parse with variable values: in, and the contents of
// *.auto.vars files by name. The language's blocks are the host, state,
// removed, and those of kinds, in that order.
func ParseWith(dir string, srcs map[string][]byte, in Inputs, auto map[string][]byte, kinds []Kind) (*Config, hcl.Diagnostics) {
	parser := hclparse.NewParser()
	cfg := &Config{Dir: dir, kinds: append([]Kind{hostKind()}, kinds...), byType: map[string][]Block{}, blocks: map[Address]Block{}, parser: parser, inputs: in, auto: auto, evaluated: map[any]evaluated{}, varFiles: map[string]bool{}, secretNames: map[string]bool{}, unknownEach: map[string]bool{}, partial: map[Block]bool{}, sensitive: map[Address][]string{}}
	names := make([]string, 0, len(srcs))
	for n := range srcs {
		names = append(names, n)
	}
	sort.Strings(names)

	var diags hcl.Diagnostics
	sum := sha256.New()
	var variables, locals, outputs hcl.Blocks
	var bodies []hcl.Body
	size := 0
	for _, n := range names {
		size += len(srcs[n])
		fmt.Fprintf(sum, "%s\x00%d\x00", n, len(srcs[n]))
		sum.Write(srcs[n])
		if d := checkLimits(n, srcs[n], strings.HasSuffix(n, ".json")); d != nil {
			diags = append(diags, d)
			continue
		}
		var f *hcl.File
		var d hcl.Diagnostics
		if strings.HasSuffix(n, ".json") {
			f, d = parser.ParseJSON(srcs[n], n)
		} else {
			f, d = parseHCL(parser, srcs[n], n)
		}
		diags = append(diags, d...)
		if f == nil || f.Body == nil {
			continue
		}
		content, rest, d := f.Body.PartialContent(topLevel)
		diags = append(diags, d...)
		variables = append(variables, content.Blocks.OfType("variable")...)
		locals = append(locals, content.Blocks.OfType("locals")...)
		outputs = append(outputs, content.Blocks.OfType("output")...)
		bodies = append(bodies, rest)
	}
	if size >= bigSource {
		// HCL's lexer leaves its tokens behind as garbage, as large as the
		// syntax tree; collected now, before decoding, the heap may grow to
		// twice the tree rather than twice the tree and the tokens.
		runtime.GC()
	}
	if slices.ContainsFunc(names, func(n string) bool { return bytes.Contains(srcs[n], []byte("file(")) }) {
		cfg.literalSecrets(bodies) // only file() reads what they name
	}
	values, d := cfg.variableValues(in, auto, func(name string) ([]byte, error) {
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		return os.ReadFile(name)
	})
	diags = append(diags, d...)
	diags = append(diags, cfg.decodeVariables(variables, values)...)
	if !diags.HasErrors() {
		diags = append(diags, cfg.decodeLocals(locals)...)
	}
	if !diags.HasErrors() {
		diags = append(diags, cfg.checkNames(bodies)...)
	}
	if !diags.HasErrors() {
		ctx := cfg.evalContext()
		cfg.decoders()
		for _, body := range bodies {
			diags = append(diags, cfg.decodeBlocks(body, ctx)...)
		}
		if cfg.unset {
			diags = slices.DeleteFunc(diags, unknownValue)
		}
	}
	cfg.Files = parser.Files()
	fmt.Fprintf(sum, "%s\x00", cfg.VariablesDigest())
	cfg.Digest = hex.EncodeToString(sum.Sum(nil))
	if diags.HasErrors() {
		return cfg, diags
	}
	diags = append(diags, cfg.index()...)
	diags = append(diags, cfg.resolve()...)
	diags = append(diags, cfg.resolveRemoved()...)
	diags = append(diags, cfg.resolveImports()...)
	diags = append(diags, cfg.decodeOutputs(outputs)...)
	if diags.HasErrors() {
		return cfg, diags
	}
	cfg.spreadSensitive()
	diags = append(diags, cfg.checkCycles()...)
	diags = append(diags, cfg.validate()...)
	diags = append(diags, cfg.checkFileReads()...)
	return cfg, diags
}

// add appends a decoded block.
func (c *Config) add(typ string, b Block) {
	switch b := b.(type) {
	case *State:
		c.states = append(c.states, b)
	case *Removed:
		c.Removed = append(c.Removed, b)
	case *Import:
		c.Imports = append(c.Imports, b)
	default:
		c.byType[typ] = append(c.byType[typ], b)
	}
}

// index registers every block under its address, refusing duplicates.
func (c *Config) index() hcl.Diagnostics {
	var diags hcl.Diagnostics
	c.Each(func(addr Address, rng hcl.Range, b Block) {
		if d := checkLabel(rng, addr); d != nil {
			diags = append(diags, d)
			return
		}
		if prev, ok := c.blocks[addr]; ok {
			p := DeclRange(prev)
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate " + addr.Type + " block",
				Detail:   fmt.Sprintf("%s was already declared at %s. Names must be unique within a block type.", addr, p),
				Subject:  rng.Ptr(),
				Context:  p.Ptr(),
			})
			return
		}
		c.blocks[addr] = b
	})
	return diags
}
