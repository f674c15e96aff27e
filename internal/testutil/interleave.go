package testutil

import (
	"slices"
	"testing"
	"time"
)

// Measured is one contender of Interleaved: a name for its metric and one
// run of it.
type Measured struct {
	Name string
	Run  func(b *testing.B)
}

// Interleaved runs the contenders one after another in every iteration
// (a machine that slows down slows all of them alike), logs each run's
// time (a straggler shows), and reports the
// median time of each, NAME-s, and the ratio of the first's median to each
// other's, ratio-vs-NAME: the anchor of a speed goal measured in the same
// run. Use -benchtime Nx with N of at least 5.
func Interleaved(b *testing.B, contenders ...Measured) {
	times := make([][]time.Duration, len(contenders))
	for b.Loop() {
		for i, c := range contenders {
			start := time.Now()
			c.Run(b)
			times[i] = append(times[i], time.Since(start))
			b.Logf("%s: %s", c.Name, times[i][len(times[i])-1].Round(time.Millisecond))
		}
	}
	medians := make([]time.Duration, len(contenders))
	for i, c := range contenders {
		medians[i] = Median(times[i])
		b.ReportMetric(medians[i].Seconds(), c.Name+"-s")
	}
	for i, c := range contenders[1:] {
		b.ReportMetric(medians[0].Seconds()/medians[i+1].Seconds(), "ratio-vs-"+c.Name)
	}
}

// Median is the middle duration (the mean of the two middle ones).
func Median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
