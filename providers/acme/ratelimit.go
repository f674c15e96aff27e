package acme

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/trustform/trustform/internal/files"
)

// rateHold is a CA's rate limit on the orders of one set of names: no
// order before Until. It is kept in the account's directory
// (rate-limits.json), so that the next run waits too instead of asking
// again and lengthening the limit.
type rateHold struct {
	Until   time.Time `json:"until"`
	Problem string    `json:"problem"`
}

func (a *Account) holdsPath() string { return a.Dir + "/rate-limits.json" }

func holdKey(domains []string) string {
	names := slices.Clone(domains)
	slices.Sort(names)
	return strings.Join(names, ",")
}

// holds reads the file; what cannot be read holds nothing back.
func (a *Account) holds() map[string]*rateHold {
	out := map[string]*rateHold{}
	if b, err := files.ReadOptional(a.holdsPath()); err == nil && b != nil {
		_ = json.Unmarshal(b, &out) // a damaged file holds nothing back: the CA says again
	}
	return out
}

// hold is the rate limit on domains, if any.
func (a *Account) hold(domains []string) *rateHold {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.holds()[holdKey(domains)]
}

// setHold records (h) or clears (nil) the rate limit on domains.
func (a *Account) setHold(domains []string, h *rateHold) {
	a.mu.Lock()
	defer a.mu.Unlock()
	all := a.holds()
	if h == nil {
		if _, ok := all[holdKey(domains)]; !ok {
			return
		}
		delete(all, holdKey(domains))
	} else {
		all[holdKey(domains)] = h
	}
	b, _ := json.MarshalIndent(all, "", "  ")
	_ = files.WriteAtomic(a.holdsPath(), append(b, '\n'), 0o600) // best effort: at worst the CA is asked again
}
