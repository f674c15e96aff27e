package acme

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-acme/lego/v4/acme"
	"github.com/go-acme/lego/v4/acme/api"
	"github.com/go-acme/lego/v4/challenge"
)

// solver answers an order's authorizations for lego's certifier, in place
// of lego's resolver (resolver.Prober), with lego's own challenge types
// (dns01.Challenge, http01.Challenge) doing the presenting and validate
// the answering and polling.
//
// lego's resolver asks for an authorization once right after answering
// its challenge and then, since CAs send no Retry-After with a challenge,
// every 2.5 to 7.5 s and growing (lego v4.35,
// challenge/resolver/solver_manager.go): a CA that validates in a second
// makes its order wait five, and a run of side-by-side orders ends with its
// slowest. Its wait takes no context either. lego lets a caller replace
// the whole resolver (certificate.NewCertifier), not its polling.
type solver struct {
	ctx context.Context // the order's: an interrupt ends the wait
	// challenge solves one authorization. A dns-01 challenge also
	// presents and cleans up on its own (presenter), so that every
	// record of an order is published before any is checked.
	challenge interface {
		Solve(acme.Authorization) error
	}
}

// presenter publishes a challenge's answer ahead of solving it.
type presenter interface {
	PreSolve(acme.Authorization) error
	CleanUp(acme.Authorization) error
}

// Solve answers every authorization the CA has not validated yet (a CA may
// reuse a valid one) and reports each name whose challenge failed.
func (s *solver) Solve(authzs []acme.Authorization) error {
	var open []acme.Authorization
	for _, a := range authzs {
		if a.Status != acme.StatusValid {
			open = append(open, a)
		}
	}
	var errs []error
	fail := func(a acme.Authorization, err error) {
		errs = append(errs, fmt.Errorf("%s: %w", challenge.GetTargetedDomain(a), err))
	}
	if p, ok := s.challenge.(presenter); ok {
		var presented []acme.Authorization
		for _, a := range open {
			if err := p.PreSolve(a); err != nil {
				fail(a, err)
				continue
			}
			presented = append(presented, a)
		}
		defer func() {
			for _, a := range presented {
				if err := p.CleanUp(a); err != nil {
					fail(a, fmt.Errorf("cleaning up: %w", err))
				}
			}
		}()
		open = presented
	}
	for _, a := range open {
		if err := s.ctx.Err(); err != nil {
			fail(a, context.Cause(s.ctx))
			continue
		}
		if err := s.challenge.Solve(a); err != nil {
			fail(a, err)
		}
	}
	return errors.Join(errs...)
}

// validate answers chlng and waits until the CA has decided its
// authorization (lego's challenge types call it once presented).
func (s *solver) validate(core *api.Core, _ string, chlng acme.Challenge) error {
	answered, err := core.Challenges.New(chlng.URL)
	if err != nil {
		return fmt.Errorf("answering the challenge: %w", err)
	}
	switch answered.Status {
	case acme.StatusValid:
		return nil
	case acme.StatusInvalid:
		if err := answered.Err(); err != nil {
			return fmt.Errorf("the CA found the challenge invalid: %w", err)
		}
		return errors.New("the CA found the challenge invalid")
	}
	retryAfter, _ := api.ParseRetryAfter(answered.RetryAfter)
	return poll(s.ctx, retryAfter, func() (acme.Authorization, error) {
		return core.Authorizations.Get(answered.AuthorizationURL)
	}, sleep)
}

// The wait before each look at an authorization whose challenge was
// answered: firstPoll, then half as long again each time up to maxPoll,
// and never shorter than the Retry-After the CA sent with the challenge
// (RFC 8555 §7.5.1). A CA that validates in half a second is seen to at
// once; one that takes minutes is asked a few times a minute. After
// pollFor the order gives up.
const (
	firstPoll = 500 * time.Millisecond
	maxPoll   = 5 * time.Second
	pollFor   = 5 * time.Minute
)

// poll looks at an authorization (get) until the CA has validated it,
// found it invalid, or pollFor has passed, sleeping between looks.
func poll(ctx context.Context, retryAfter time.Duration, get func() (acme.Authorization, error), sleep func(context.Context, time.Duration) error) error {
	wait, waited := firstPoll, time.Duration(0)
	for looks := 1; ; looks++ {
		d := max(wait, retryAfter)
		if looks == 1 && d > pollFor {
			return fmt.Errorf("the CA asks to be asked again after %s, longer than an order waits (%s)", d, pollFor)
		}
		if waited+d > pollFor {
			return fmt.Errorf("the CA had not validated the challenge after %s (%d looks)", waited, looks-1)
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
		waited += d
		wait = min(wait*3/2, maxPoll)
		authz, err := get()
		if err != nil {
			return err
		}
		switch authz.Status {
		case acme.StatusValid:
			return nil
		case acme.StatusPending, acme.StatusProcessing:
			continue
		case acme.StatusInvalid:
			for _, c := range authz.Challenges {
				if c.Status == acme.StatusInvalid && c.Error != nil {
					return fmt.Errorf("the CA found the challenge invalid: %w", c.Err())
				}
			}
			return errors.New("the CA found the authorization invalid")
		default:
			return fmt.Errorf("the authorization is %s", authz.Status)
		}
	}
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
