package acme

import (
	"fmt"
	"testing"
	"time"
)

// The renewal point is inside the CA's window, the same for a serial on
// every run, and spread over the window across serials.
func TestPointInWindow(t *testing.T) {
	start := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(48 * time.Hour)
	quarters := [4]int{}
	for i := range 400 {
		serial := []byte(fmt.Sprintf("serial-%d", i))
		at := PointInWindow(start, end, serial)
		if at.Before(start) || at.After(end) {
			t.Fatalf("%s is outside the window %s to %s", at, start, end)
		}
		if again := PointInWindow(start, end, serial); !again.Equal(at) {
			t.Fatalf("serial %d: %s, then %s", i, at, again)
		}
		quarters[at.Sub(start)/(12*time.Hour)]++
	}
	for q, n := range quarters {
		if n < 60 {
			t.Errorf("quarter %d of the window got %d of 400 certificates: %v", q, n, quarters)
		}
	}
	if at := PointInWindow(start, start, []byte("x")); !at.Equal(start) {
		t.Errorf("an empty window gives %s, want its start", at)
	}
}
