package dns

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trustform/trustform/internal/netpolicy"
)

// hostClient sends the requests of one DNS host's API (PowerDNS, deSEC,
// Cloudflare): the credential in its header to the API only (no redirect
// is followed, connections go through the run's dialer), 429 waited out
// for its Retry-After within the run's context, and every error naming the
// zone and the API, never the credential.
type hostClient struct {
	zone, api   string // for errors: "example.test.", "deSEC API https://…"
	header, key string // the credential's header and its value
	secret      string // what errors must never show
	timeout     time.Duration
	retries     int // 429s waited out per request
}

// do sends method to u with body as JSON (nil: none) and returns the
// answer of a 2xx status; hint says what another status means.
func (c hostClient) do(ctx context.Context, method, u string, body any) (http.Header, []byte, error) {
	timeout := c.timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: netpolicy.Dialer(&net.Dialer{Timeout: timeout}).DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, nil, err
		}
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(payload))
		if err != nil {
			return nil, nil, fmt.Errorf("zone %s: %s: %w", c.zone, c.api, err)
		}
		req.Header.Set(c.header, c.key)
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			slog.Debug("dns: api request", "api", c.api, "method", method, "path", req.URL.Path, "error", c.scrub(err.Error()))
			return nil, nil, fmt.Errorf("zone %s: %s: %s", c.zone, c.api, c.scrub(err.Error()))
		}
		slog.Debug("dns: api request", "api", c.api, "method", method, "path", req.URL.Path, "bytes", len(payload), "status", resp.Status) // the key is in a header, never logged
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests && attempt < c.retries {
			wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			select {
			case <-ctx.Done():
				return nil, nil, fmt.Errorf("zone %s: %s: rate limited, and the run was stopped: %w", c.zone, c.api, ctx.Err())
			case <-time.After(time.Duration(max(wait, 1)) * time.Second):
			}
			continue
		}
		if resp.StatusCode/100 != 2 {
			return nil, nil, fmt.Errorf("zone %s: %s answered %s to %s: %s%s", c.zone, c.api, resp.Status, method, c.scrub(apiMessage(b)), apiHint(resp.StatusCode))
		}
		return resp.Header, b, nil
	}
}

// scrub takes the credential out of a text.
func (c hostClient) scrub(s string) string {
	if c.secret == "" {
		return s
	}
	return strings.ReplaceAll(s, c.secret, "…")
}

// apiMessage is what an API's error answer says: its "error" or "detail"
// field, or its first error's message, else the body, shortened.
func apiMessage(b []byte) string {
	var e struct {
		Error  string `json:"error"`
		Detail string `json:"detail"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &e) == nil {
		switch {
		case e.Error != "":
			msg = e.Error
		case e.Detail != "":
			msg = e.Detail
		case len(e.Errors) > 0 && e.Errors[0].Message != "":
			msg = e.Errors[0].Message
		}
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}

// apiHint says what an API status means here.
func apiHint(status int) string {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return " (is the API token right?)"
	case http.StatusNotFound:
		return " (does the API hold this zone, for this token?)"
	case http.StatusUnprocessableEntity, http.StatusBadRequest:
		return " (the API refused the records)"
	}
	return ""
}
