package dns

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/trustform/trustform/providers/dns/dnstest"
)

// TestChallengesShareOneUpdate: the dns-01 challenges of orders issued side
// by side (twenty, two of them for one name) reach the primary in one
// UPDATE, are all served, and leave in one UPDATE again; a challenge on its
// own waits only for the gathering (gatherQuiet).
func TestChallengesShareOneUpdate(t *testing.T) {
	lab := dnstest.Start(t, "example.test")
	s := labServer(lab)
	ctx := context.Background()
	edit := func(add bool) {
		var wg sync.WaitGroup
		errs := make([]error, 20)
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(i%5) * 20 * time.Millisecond) // orders reach their challenge a little apart
				name := fmt.Sprintf("_acme-challenge.h%d.example.test.", i%19)
				value := fmt.Sprintf("value-%d", i)
				if add {
					errs[i] = s.AddTXT(ctx, name, value)
				} else {
					errs[i] = s.RemoveTXT(ctx, name, value)
				}
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("challenge %d: %v", i, err)
			}
		}
	}
	before := lab.Primary.UpdateMessages(t)
	edit(true)
	if got := lab.Primary.UpdateMessages(t) - before; got != 1 {
		t.Errorf("20 challenges took %d UPDATE messages; want 1", got)
	}
	for i := range 20 {
		lagging, err := s.TXTServed(ctx, fmt.Sprintf("_acme-challenge.h%d.example.test.", i%19), fmt.Sprintf("value-%d", i))
		if err != nil || len(lagging) > 0 {
			// The update returns once the primary serves it; the secondary follows.
			time.Sleep(2 * time.Second)
			if lagging, err = s.TXTServed(ctx, fmt.Sprintf("_acme-challenge.h%d.example.test.", i%19), fmt.Sprintf("value-%d", i)); err != nil || len(lagging) > 0 {
				t.Fatalf("challenge %d is not served by %v: %v", i, lagging, err)
			}
		}
	}
	before = lab.Primary.UpdateMessages(t)
	edit(false)
	if got := lab.Primary.UpdateMessages(t) - before; got != 1 {
		t.Errorf("removing 20 challenges took %d UPDATE messages; want 1", got)
	}
	rrs, err := s.RRset(ctx, "_acme-challenge.h0.example.test.", 16)
	if err != nil || len(rrs) != 0 {
		t.Errorf("after the removal: %v, %v", rrs, err)
	}
	start := time.Now()
	if err := s.AddTXT(ctx, "_acme-challenge.alone.example.test.", "v"); err != nil {
		t.Fatal(err)
	}
	t.Logf("a challenge on its own took %s", time.Since(start).Round(time.Millisecond))
}
