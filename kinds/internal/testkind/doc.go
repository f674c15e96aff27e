// Package testkind is a kind of resource that exists to prove the
// contract: a "note" block writes one text file on its host. It is the
// whole of a kind (its block, validation, references, the files it names,
// how it binds, observes, plans and applies) in one package, so that a
// test can add it to the kinds list with one line and run it through
// validate, plan, apply and the JSON and Markdown plans. trustform itself
// never lists it.
package testkind
