package acme

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestFirstPollPaced: after a challenge's answer links its authorization
// as "up", the next request for that authorization leaves firstPoll after
// the answer, and only that one; a certificate linking its issuer as "up"
// holds nothing back; an ended context ends the wait.
func TestFirstPollPaced(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chall":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Add("Link", `<https://ca.test/dir>;rel="index"`)
			w.Header().Add("Link", `<`+"http://"+r.Host+`/authz>; rel="up"`)
			w.Write([]byte(`{"status":"processing"}`))
		case "/cert":
			w.Header().Set("Content-Type", "application/pem-certificate-chain")
			w.Header().Add("Link", `<`+"http://"+r.Host+`/issuer>;rel="up"`)
		}
	}))
	defer srv.Close()
	tr := &pacedTransport{base: http.DefaultTransport}
	post := func(ctx context.Context, path string) (time.Duration, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path, strings.NewReader("{}"))
		start := time.Now()
		resp, err := tr.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		return time.Since(start), err
	}
	ctx := context.Background()
	post(ctx, "/chall")
	if took, _ := post(ctx, "/authz"); took < firstPoll-50*time.Millisecond {
		t.Errorf("the first poll after the challenge left after %v, want about %v", took, firstPoll)
	}
	if took, _ := post(ctx, "/authz"); took > firstPoll/2 {
		t.Errorf("the second poll waited %v", took)
	}
	post(ctx, "/cert")
	if took, _ := post(ctx, "/issuer"); took > firstPoll/2 {
		t.Errorf("the issuer after a certificate waited %v", took)
	}
	post(ctx, "/chall")
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if took, err := post(short, "/authz"); !errors.Is(err, context.DeadlineExceeded) || took > firstPoll/2 {
		t.Errorf("a cancelled wait: %v after %v", err, took)
	}
}

func TestLinkUp(t *testing.T) {
	for _, tc := range []struct {
		links []string
		want  string
	}{
		{[]string{`<https://ca/authz/1>;rel="up"`}, "https://ca/authz/1"},
		{[]string{`<https://ca/dir>;rel="index", <https://ca/authz/2> ; rel=up`}, "https://ca/authz/2"},
		{[]string{`<https://ca/dir>;rel="index"`}, ""},
		{[]string{`https://ca/authz/3;rel="up"`}, ""},
		{nil, ""},
	} {
		h := http.Header{}
		for _, l := range tc.links {
			h.Add("Link", l)
		}
		if got := linkUp(h); got != tc.want {
			t.Errorf("linkUp(%q) = %q, want %q", tc.links, got, tc.want)
		}
	}
}
