package acme

import (
	"context"
	"errors"
	"testing"

	"github.com/go-acme/lego/v4/acme"
)

// TestRetryTransient: a rejected nonce and a 5xx are retried up to the
// budget, anything else at once not, and an ended context stops the
// retries.
func TestRetryTransient(t *testing.T) {
	nonce := &acme.NonceError{ProblemDetails: &acme.ProblemDetails{Type: acme.BadNonceErr, HTTPStatus: 400}}
	for _, tc := range []struct {
		name  string
		fails []error
		want  int // attempts
	}{
		{"badNonce then success", []error{nonce, nonce}, 3},
		{"5xx then success", []error{&acme.ProblemDetails{HTTPStatus: 503}}, 2},
		{"unauthorized at once", []error{&acme.ProblemDetails{HTTPStatus: 403}}, 1},
		{"other errors at once", []error{errors.New("no such host")}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			err := retry(context.Background(), func() error {
				n++
				if n <= len(tc.fails) {
					return tc.fails[n-1]
				}
				return nil
			})
			if n != tc.want {
				t.Errorf("%d attempts, want %d (err %v)", n, tc.want, err)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := 0
	if err := retry(ctx, func() error { n++; return nonce }); err == nil || n != 1 {
		t.Errorf("with the context ended: %d attempts, %v", n, err)
	}
}
