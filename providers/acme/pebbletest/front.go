package pebbletest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// front is what Directory reaches: a reverse proxy to Pebble's ACME port,
// serving Pebble's own certificate, so that a test can make the CA go
// away (down), answer slowly or rate-limit orders, while Pebble keeps its
// state. Pebble names its URLs after the Host a request asks for, so
// clients never learn the port behind it.
type front struct {
	addr  string
	proxy *httputil.ReverseProxy
	cert  tls.Certificate

	mu    sync.Mutex
	srv   *http.Server
	slow  time.Duration
	limit time.Duration
}

func newFront(t testing.TB, addr, backend, dir string) *front {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	b, _ := os.ReadFile(filepath.Join(dir, "roots.pem"))
	pool.AppendCertsFromPEM(b)
	target := &url.URL{Scheme: "https", Host: backend}
	return &front{addr: addr, cert: cert, proxy: &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host
		},
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}},
	}}
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	slow, limit := f.slow, f.limit
	f.mu.Unlock()
	if slow > 0 {
		select {
		case <-time.After(slow):
		case <-r.Context().Done():
			return
		}
	}
	if limit > 0 && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/order-plz") {
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Retry-After", fmt.Sprint(int(limit.Seconds())))
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many certificates (5) already issued for this exact set of identifiers in the last 168h0m0s","status":429}`)
		return
	}
	f.proxy.ServeHTTP(w, r)
}

func (f *front) setSlow(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.slow = d
}

func (f *front) setLimit(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limit = d
}

func (f *front) up() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.srv != nil {
		return nil
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return err
	}
	f.srv = &http.Server{Handler: f, TLSConfig: &tls.Config{Certificates: []tls.Certificate{f.cert}}}
	go f.srv.ServeTLS(ln, "", "")
	return nil
}

// down stops listening and cuts every connection.
func (f *front) down() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.srv != nil {
		f.srv.Close()
	}
	f.srv = nil
}
