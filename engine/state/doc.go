// Package state keeps what trustform knows between runs, in
// .trustform/state.json: the value of every resource after its last apply
// and when each published TLSA record became visible (the tlsa-before-cert
// gate counts from there). The file is written atomically after every step
// and guarded by a lock held for the whole of a plan or apply. It never
// holds a private key, a TSIG secret or an account key.
package state
