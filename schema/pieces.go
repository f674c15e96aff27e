package schema

import (
	"bytes"
	"runtime"
	"sort"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// pieceSize is how much of a large native-syntax file one parse takes
// (bytes): HCL's parser reads a file on one core and holds every token of
// it at once, so a fleet's 10,000 blocks in one file are parsed in pieces
// of whole top-level blocks, side by side on every core, each piece's
// tokens freed with it.
const pieceSize = 64 << 10

// parseHCL parses a native-syntax configuration file as parser.ParseHCL
// does, and registers it with parser. A file larger than pieceSize whose
// top-level blocks scanShallow can find is parsed in pieces; the pieces'
// bodies are joined into the body one parse gives (the same blocks with the
// same ranges, in order). A piece with any diagnostic, or pieces that
// declare one top-level attribute twice, send the whole file to the
// parser, so that what a mistake reports never depends on where a file was
// cut.
func parseHCL(parser *hclparse.Parser, src []byte, name string) (*hcl.File, hcl.Diagnostics) {
	starts := pieceStarts(src, pieceSize)
	if len(starts) < 2 {
		return parser.ParseHCL(src, name)
	}
	f, ok := parsePieces(src, name, starts)
	if !ok {
		return parser.ParseHCL(src, name)
	}
	parser.AddFile(name, f)
	return f, nil
}

// pieceStarts are the offsets where the pieces of src begin, each at the
// start of a line after a top-level block and about size bytes after the
// one before; nil when src is not to be cut.
func pieceStarts(src []byte, size int) []int {
	if len(src) <= size {
		return nil
	}
	starts := []int{0}
	if !scanShallow(src, func(end int) {
		if end-starts[len(starts)-1] >= size && end < len(src) {
			starts = append(starts, end)
		}
	}) {
		return nil
	}
	return starts
}

// parsePieces parses src cut at starts, GOMAXPROCS pieces at a time, and
// joins them; false when a piece has a diagnostic or the join would lose
// an attribute.
func parsePieces(src []byte, name string, starts []int) (*hcl.File, bool) {
	at := make([]hcl.Pos, len(starts)) // where each piece begins in the file
	at[0] = hcl.InitialPos
	for i := 1; i < len(starts); i++ {
		at[i] = hcl.Pos{Line: at[i-1].Line + bytes.Count(src[starts[i-1]:starts[i]], []byte{'\n'}), Column: 1, Byte: starts[i]}
	}
	files := make([]*hcl.File, len(starts))
	failed := make([]bool, len(starts))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(starts)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				end := len(src)
				if i+1 < len(starts) {
					end = starts[i+1]
				}
				f, diags := hclsyntax.ParseConfig(src[starts[i]:end], name, at[i])
				files[i], failed[i] = f, len(diags) > 0
			}
		}()
	}
	for i := range starts {
		next <- i
	}
	close(next)
	wg.Wait()

	body := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}, Blocks: hclsyntax.Blocks{}} // as one parse makes them
	navs := make([]any, len(files))
	for i, f := range files {
		if failed[i] {
			return nil, false
		}
		b := f.Body.(*hclsyntax.Body)
		for n, a := range b.Attributes {
			if _, dup := body.Attributes[n]; dup {
				return nil, false
			}
			body.Attributes[n] = a
		}
		body.Blocks = append(body.Blocks, b.Blocks...)
		navs[i] = f.Nav
	}
	first, last := files[0].Body.(*hclsyntax.Body), files[len(files)-1].Body.(*hclsyntax.Body)
	body.SrcRange = hcl.RangeBetween(first.SrcRange, last.SrcRange)
	body.EndRange = last.EndRange
	return &hcl.File{Body: body, Bytes: src, Nav: piecesNav{starts, navs}}, true
}

// piecesNav answers HCL's "in BLOCK" context of a file parsed in pieces
// from the piece that holds the offset.
type piecesNav struct {
	starts []int
	navs   []any // each piece's hcl.File.Nav
}

func (n piecesNav) piece(offset int) any {
	return n.navs[max(sort.SearchInts(n.starts, offset+1)-1, 0)] // the last piece starting at or before offset
}

func (n piecesNav) ContextString(offset int) string {
	if cs, ok := n.piece(offset).(interface{ ContextString(int) string }); ok {
		return cs.ContextString(offset)
	}
	return ""
}

func (n piecesNav) ContextDefRange(offset int) hcl.Range {
	if cd, ok := n.piece(offset).(interface{ ContextDefRange(int) hcl.Range }); ok {
		return cd.ContextDefRange(offset)
	}
	return hcl.Range{}
}
