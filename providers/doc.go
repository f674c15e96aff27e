// Package providers holds what every provider shares with the engine: the
// Value type that desired and observed resources both take, so that plans
// show before and after the same way for every kind of resource.
//
// The packages below this one each own one real system (a zone, a CA, a web
// server, an APT keyring). Each observes the live object read-only, reports
// "absent" as a nil Value rather than an error, and applies one step of a
// change at a time.
package providers
