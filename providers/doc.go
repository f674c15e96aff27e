// Package providers is the contract between the engine and the providers:
// Resource (observe, plan, apply one phase), the optional roles a resource
// may play (batched with others, propagated to several servers, renewing,
// deploying a key, pinning one), changes as data (Change, Phase, Action),
// and the Value type that desired and observed resources both take, so that
// plans show before and after the same way for every kind of resource.
//
// The packages below this one each own one kind of resource or one real
// system (a certificate, a zone, a CA, a web server, an APT keyring). Each
// observes the live object read-only, reports "absent" as a nil Value
// rather than an error, and applies one phase of a change at a time, with
// every file and command going through its host (internal/host).
package providers
