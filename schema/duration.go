package schema

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a configuration duration such as "90s", "24h" or "30d".
type Duration = time.Duration

// ParseDuration accepts Go durations plus whole days ("30d") and weeks ("2w"),
// which time.ParseDuration lacks. A bare number is refused: a unit is required.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	for unit, size := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, unit); ok {
			v, err := strconv.ParseUint(n, 10, 32)
			if err != nil {
				return 0, fmt.Errorf("%q is not a duration: want a whole number before %q", s, unit)
			}
			return time.Duration(v) * size, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: use a number with a unit, such as \"90s\", \"24h\" or \"30d\"", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}
