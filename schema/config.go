package schema

import (
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
)

// Config is a whole configuration directory, decoded and validated.
type Config struct {
	// Dir is the configuration directory, absolute.
	Dir string
	// Files holds every parsed file by name, for printing diagnostics.
	Files map[string]*hcl.File
	// Digest is a SHA-256 over the names and bytes of all configuration
	// files; a saved plan records it to notice configuration changes.
	Digest string

	// State is the shared state store, or nil for .trustform/.
	State *State
	// Removed are the removed blocks: what to forget instead of delete.
	Removed []*Removed
	// Imports are the import blocks: what to take over as it is.
	Imports []*Import
	// Variables are the variable blocks, each with its value.
	Variables []*Variable
	Outputs   []*Output // by name

	kinds     []Kind             // the host's, then the language's
	byType    map[string][]Block // every block by type, in file order
	decoding  map[string]*decoder
	blocks    map[Address]Block
	referrers map[Address][]Address // see Referrers
	states    []*State
	gone      map[Address]bool // see WithGone

	locals map[string]cty.Value
	parser *hclparse.Parser // shared with variables files, for diagnostics
	inputs Inputs           // what the values came with, for WithGone
	unset  bool             // a variable without a value is unknown (Inputs.Unset)
	// unknownEach are the for_each blocks whose keys are not known (unset).
	unknownEach map[string]bool
	partial     map[Block]bool    // blocks holding a value not known (unset)
	auto        map[string][]byte // *.auto.vars
	// varFiles are the variables files among Files.
	varFiles map[string]bool

	evaluated map[any]evaluated // how each block was decoded
	// secretNames are the secrets named by literals, which file() refuses
	// before reading; fileReads the files it read (see file.go).
	secretNames map[string]bool
	fileReads   []string
	// sensitive are the texts of marked values, by the block they landed
	// in (sensitive.go); marked says whether any variable is sensitive.
	sensitive   map[Address][]string
	sensitiveOf map[Address][]string
	marked      bool
}

// Block returns the block at addr, or nil.
func (c *Config) Block(addr Address) Block { return c.blocks[addr] }

// Hosts are the host blocks, in file order.
func (c *Config) Hosts() []*Host {
	var out []*Host
	for _, b := range c.byType["host"] {
		out = append(out, b.(*Host))
	}
	return out
}

// Host returns the host a resource names, or nil for the local host.
func (c *Config) Host(r Ref) *Host {
	h, _ := c.blocks[r.Address].(*Host)
	return h
}

// LocalPath maps a file path of a resource to where the host door finds
// it: on this machine, relative paths are relative to the configuration
// directory and absolute ones placed under the host's root, if any; on an
// SSH host, the path there under its root.
func (c *Config) LocalPath(host Ref, p string) string {
	if p == "" {
		return ""
	}
	if h := c.Host(host); h != nil && h.SSH != nil { // a path on the remote host
		return filepath.Join(h.Root, filepath.Clean(p))
	}
	if !filepath.IsAbs(p) {
		return filepath.Join(c.Dir, p)
	}
	if h := c.Host(host); h != nil && h.Root != "" {
		root := h.Root
		if !filepath.IsAbs(root) {
			root = filepath.Join(c.Dir, root)
		}
		return filepath.Join(root, filepath.Clean(p)) // p is absolute: Clean keeps it from climbing out of root
	}
	return filepath.Clean(p)
}

// Target is a path as the managed host sees it: relative paths are
// relative to the configuration directory.
func (c *Config) Target(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// StateDir is where trustform keeps state and local secrets (the local CA key).
func (c *Config) StateDir() string { return filepath.Join(c.Dir, ".trustform") }
