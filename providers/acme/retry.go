package acme

import (
	"context"
	"errors"
	"time"

	"github.com/go-acme/lego/v4/acme"
)

// A CA under load rejects nonces (badNonce) and answers 5xx. lego retries a
// badNonce itself, for 20 s per request, with no way to change it or to
// stop it early; at half the nonces rejected on a loaded runner that runs
// out about once in a few dozen requests. So the operations trustform
// starts (an order, a registration, a revocation) are retried as a whole on
// those errors, within a budget of their own and never past the run's
// context:

// RetryBudget bounds the retries of one operation: at most RetryAttempts
// attempts, started within RetryBudget of the first, spaced by a pause that
// doubles from one second.
const (
	RetryAttempts = 5
	RetryBudget   = 3 * time.Minute
)

// transient reports whether err is worth a retry: a rejected nonce, or a
// CA's server error.
func transient(err error) bool {
	var nonce *acme.NonceError
	if errors.As(err, &nonce) {
		return true
	}
	var problem *acme.ProblemDetails
	return errors.As(err, &problem) && problem.HTTPStatus >= 500
}

// retry runs op until it succeeds, fails for a reason that is not
// transient, or the budget or ctx ends; it returns op's last error.
func retry(ctx context.Context, op func() error) error {
	start, pause := time.Now(), time.Second
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || !transient(err) || attempt == RetryAttempts || time.Since(start)+pause > RetryBudget || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		pause *= 2
	}
}
