package schema

import (
	"reflect"

	"github.com/hashicorp/hcl/v2"
)

// What the external tests of this package look into.

// DecodeForTest decodes the top-level blocks of file name as
// decodeInstance does, each into a new block of its kind, and calls fn
// with the block, what was decoded and its diagnostics, and the context
// it was evaluated in.
func (c *Config) DecodeForTest(name string, fn func(blk *hcl.Block, ours, empty Block, diags hcl.Diagnostics, ctx *hcl.EvalContext)) {
	ctx := c.evalContext()
	_, rest, _ := c.Files[name].Body.PartialContent(topLevel)
	content, _ := rest.Content(c.bodySchema())
	if c.decoding == nil {
		c.decoders()
	}
	for _, blk := range content.Blocks {
		ours := c.newBlock(blk.Type)
		diags := c.decoding[blk.Type].decodeBlock(blk, ctx, reflectValue(ours), nil)
		fn(blk, ours, c.newBlock(blk.Type), diags, ctx)
	}
}

func reflectValue(b Block) reflect.Value { return reflect.ValueOf(b).Elem() }
