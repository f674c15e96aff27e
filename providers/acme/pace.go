package acme

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// firstPoll is how long after a CA answers a challenge its authorization
// is first asked for again.
//
// lego asks at once, and when the CA has not finished validating by then
// it waits 2.5 to 7.5 s before asking again: an exponential backoff from 5 s,
// since CAs send no Retry-After with a challenge (lego v4.35,
// challenge/resolver/solver_manager.go, validate). A CA that validates in
// a fraction of a second then makes one order in five wait seconds for
// nothing, and a run of side-by-side orders ends with its slowest. RFC 8555
// §7.5.1 leaves the client to poll "after a reasonable delay"; half a
// second is one.
const firstPoll = 500 * time.Millisecond

// pacedTransport holds back the first request for an authorization after
// one of its challenges was answered (a JSON answer linking to the
// authorization as "up", RFC 8555 §7.5.1) until firstPoll has passed;
// every other request goes at once. It reads no answer's body and changes
// none.
type pacedTransport struct {
	base http.RoundTripper

	mu       sync.Mutex
	answered map[string]time.Time // authorization URL → when a challenge of it was answered
}

func (t *pacedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	at, ok := t.answered[req.URL.String()]
	delete(t.answered, req.URL.String())
	t.mu.Unlock()
	if wait := time.Until(at.Add(firstPoll)); ok && wait > 0 {
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-req.Context().Done():
			timer.Stop()
			return nil, req.Context().Err()
		}
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil || req.Method != http.MethodPost || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return resp, err // a certificate's answer may link its issuer as "up"
	}
	if up := linkUp(resp.Header); up != "" {
		t.mu.Lock()
		if t.answered == nil {
			t.answered = map[string]time.Time{}
		}
		t.answered[up] = time.Now()
		t.mu.Unlock()
	}
	return resp, err
}

// linkUp is the target of the Link header field with relation "up", or "".
func linkUp(h http.Header) string {
	for _, v := range h.Values("Link") {
		if m := upLink.FindStringSubmatch(v); m != nil {
			return m[1]
		}
	}
	return ""
}

// upLink is a link with relation "up" in a Link header field (RFC 8288):
// its target in angle brackets, its parameters up to the next link.
var upLink = regexp.MustCompile(`<([^>]*)>[^,<]*;\s*rel="?up"?\s*(?:[;,]|$)`)
