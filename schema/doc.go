// Package schema turns a directory of HCL files into typed configuration.
//
// It decodes every block type of the trustform language with gohcl, resolves
// references written as TYPE.NAME, and validates what can be checked without
// touching any server. Every problem is an hcl.Diagnostic that points at the
// block or attribute it concerns, so the CLI can print file:line:column with
// a source snippet.
package schema
