// Package schema is the trustform language: it turns a directory of HCL
// files into a configuration of blocks.
//
// It evaluates the language's expressions with go-cty (variables, locals,
// functions, for_each instances), decodes every block of the kinds it is
// given (Kind: each kind's own struct, decoded as gohcl does), resolves
// references written as TYPE.NAME (or TYPE.NAME["KEY"]), and validates
// what can be checked without touching any server. It knows a block only
// through the Block interface and the optional Referrer, Validator and
// FileNamer; the blocks it declares itself are the language's own: host
// (where files live), state (where state is kept) and removed (what to
// forget). Every problem is an hcl.Diagnostic that points at the block or
// attribute it concerns, so the CLI can print file:line:column with a
// source snippet.
package schema
