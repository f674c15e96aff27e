package acme

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/acme"
)

// A CA that validates in about a second is seen to have done so within the
// second; lego's resolver would have looked again only after 2.5 to 7.5 s.
func TestPollSchedule(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name       string
		retryAfter time.Duration
		statuses   []string // what each look finds
		waits      []time.Duration
		err        string
	}{
		{name: "validated before the first look", statuses: []string{"valid"}, waits: []time.Duration{500 * ms}},
		{name: "validated within a second", statuses: []string{"processing", "valid"}, waits: []time.Duration{500 * ms, 750 * ms}},
		{name: "pending, then processing", statuses: []string{"pending", "processing", "processing", "valid"},
			waits: []time.Duration{500 * ms, 750 * ms, 1125 * ms, 1687500 * time.Microsecond}},
		{name: "the CA's Retry-After is the shortest wait", retryAfter: 3 * time.Second, statuses: []string{"processing", "processing", "valid"},
			waits: []time.Duration{3 * time.Second, 3 * time.Second, 3 * time.Second}},
		{name: "invalid", statuses: []string{"processing", "invalid"}, waits: []time.Duration{500 * ms, 750 * ms},
			err: "the CA found the challenge invalid: acme: error: 400 :: urn:ietf:params:acme:error:dns :: no TXT record"},
		{name: "deactivated", statuses: []string{"deactivated"}, waits: []time.Duration{500 * ms}, err: "the authorization is deactivated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var waits []time.Duration
			looks := 0
			get := func() (acme.Authorization, error) {
				a := acme.Authorization{Status: tc.statuses[looks]}
				if a.Status == acme.StatusInvalid {
					a.Challenges = []acme.Challenge{{Type: "dns-01", Status: acme.StatusInvalid,
						Error: &acme.ProblemDetails{Type: "urn:ietf:params:acme:error:dns", Detail: "no TXT record", HTTPStatus: 400}}}
				}
				looks++
				return a, nil
			}
			err := poll(context.Background(), tc.retryAfter, get, func(_ context.Context, d time.Duration) error {
				waits = append(waits, d)
				return nil
			})
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || err.Error() != tc.err) {
				t.Fatalf("poll: %v, want %q", err, tc.err)
			}
			if !slices.Equal(waits, tc.waits) || looks != len(tc.statuses) {
				t.Errorf("waits %v over %d looks, want %v over %d", waits, looks, tc.waits, len(tc.statuses))
			}
		})
	}
}

// A CA that never decides is asked at most every five seconds, and the
// order gives up after five minutes of waiting.
func TestPollGivesUp(t *testing.T) {
	var total time.Duration
	looks := 0
	err := poll(context.Background(), 0, func() (acme.Authorization, error) {
		looks++
		return acme.Authorization{Status: acme.StatusProcessing}, nil
	}, func(_ context.Context, d time.Duration) error {
		if d > maxPoll {
			t.Errorf("waited %s between looks", d)
		}
		total += d
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "had not validated the challenge") {
		t.Fatalf("poll: %v", err)
	}
	if total > pollFor || total < pollFor-maxPoll || looks > 70 {
		t.Errorf("gave up after %s and %d looks", total, looks)
	}
}

// An interrupt ends the wait at once, with its cause.
func TestPollInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("interrupted")
	time.AfterFunc(50*time.Millisecond, func() { cancel(stop) })
	start := time.Now()
	err := poll(ctx, 2*time.Second, func() (acme.Authorization, error) {
		return acme.Authorization{Status: acme.StatusProcessing}, nil
	}, sleep)
	if !errors.Is(err, stop) || time.Since(start) > 10*time.Second {
		t.Fatalf("poll: %v after %s", err, time.Since(start))
	}
}

// fakeChallenge records what the solver asks of it, as a dns-01 challenge.
type fakeChallenge struct {
	calls []string
	fail  map[string]error // by name and step
}

func (f *fakeChallenge) step(step string, a acme.Authorization) error {
	f.calls = append(f.calls, step+" "+a.Identifier.Value)
	return f.fail[step+" "+a.Identifier.Value]
}
func (f *fakeChallenge) PreSolve(a acme.Authorization) error { return f.step("present", a) }
func (f *fakeChallenge) Solve(a acme.Authorization) error    { return f.step("solve", a) }
func (f *fakeChallenge) CleanUp(a acme.Authorization) error  { return f.step("cleanup", a) }

// Every dns-01 record of an order is published before any is checked and
// cleaned up after all; an authorization the CA reuses is left alone; each
// failing name is reported, and the others are still solved.
func TestSolveOrder(t *testing.T) {
	authz := func(name, status string) acme.Authorization {
		return acme.Authorization{Status: status, Identifier: acme.Identifier{Type: "dns", Value: name}}
	}
	f := &fakeChallenge{fail: map[string]error{"present c.test": errors.New("UPDATE refused"), "solve d.test": errors.New("invalid")}}
	s := &solver{ctx: context.Background(), challenge: f}
	err := s.Solve([]acme.Authorization{authz("a.test", "pending"), authz("b.test", "valid"), authz("c.test", "pending"), authz("d.test", "pending")})
	want := []string{"present a.test", "present c.test", "present d.test", "solve a.test", "solve d.test", "cleanup a.test", "cleanup d.test"}
	if !slices.Equal(f.calls, want) {
		t.Errorf("calls\n%q\nwant\n%q", f.calls, want)
	}
	if err == nil || err.Error() != "c.test: UPDATE refused\nd.test: invalid" {
		t.Errorf("Solve: %v", err)
	}
}
