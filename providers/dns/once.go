package dns

import "sync"

// askedOnce is a fact about a zone asked of a server once per run (whether
// its keys are signed, its MX targets): the first of the parallel
// observers asks, the others wait for its answer. A failed question is
// asked again by the next caller.
type askedOnce[T any] struct {
	mu    sync.Mutex
	known bool
	v     T
}

// get returns the answer, asking for it the first time.
func (o *askedOnce[T]) get(ask func() (T, error)) (T, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.known {
		return o.v, nil
	}
	v, err := ask()
	if err != nil {
		return v, err
	}
	o.v, o.known = v, true
	return v, nil
}

// forget makes the next caller ask again.
func (o *askedOnce[T]) forget() {
	o.mu.Lock()
	o.known = false
	o.mu.Unlock()
}
