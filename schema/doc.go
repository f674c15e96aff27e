// Package schema turns a directory of HCL files into typed configuration.
//
// It evaluates the language's expressions with go-cty (variables, locals,
// functions, for_each instances), decodes every block type of the
// trustform language with gohcl, resolves references written as TYPE.NAME
// (or TYPE.NAME["KEY"]), and validates what can be checked without
// touching any server. Every problem is an hcl.Diagnostic that points at
// the block or attribute it concerns, so the CLI can print
// file:line:column with a source snippet.
package schema
