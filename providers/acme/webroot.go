package acme

import (
	"path"

	"github.com/go-acme/lego/v4/challenge"
	"github.com/go-acme/lego/v4/challenge/http01"

	"github.com/trustform/trustform/internal/host"
)

// webroot answers http-01 from a vhost's acme_webroot through the host
// door, so that the webroot may be on an SSH host: lego's own webroot
// provider writes only to this machine.
type webroot struct {
	host host.Host
	dir  string
}

var _ challenge.Provider = webroot{}

// Present writes the key authorization where the vhost serves it.
func (w webroot) Present(_, token, keyAuth string) error {
	return w.host.WriteFile(path.Join(w.dir, http01.ChallengePath(token)), []byte(keyAuth), 0o644)
}

// CleanUp removes it again.
func (w webroot) CleanUp(_, token, _ string) error {
	return w.host.Remove(path.Join(w.dir, http01.ChallengePath(token)))
}
