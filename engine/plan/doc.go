// Package plan holds a plan as data: the changes (address, action, before,
// after, reasons) and the ordered steps that carry them out, with the rule
// that ordered each step and any time gate. Plans hold no closures, so they
// can be rendered, saved to a file, golden-tested and applied later.
//
// The renderers here write to an io.Writer; only the CLI decides where.
package plan
