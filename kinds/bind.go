package kinds

import (
	"context"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/rules"
	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/internal/netpolicy"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// binding is one run's binding of a configuration.
type binding struct {
	cfg   *schema.Config
	now   func() time.Time
	bound map[schema.Address]any
	// remotes are the SSH hosts by name: one connection each for the run.
	remotes map[string]*host.SSH
	// challenges are the http-01 pre-order checks made so far.
	challenges []engine.Challenge
	// policy restricts the SSH connections (an untrusted plan).
	policy *netpolicy.Policy
	// all is what the blocks bound to, in the order of the blocks (All).
	all []any
	// once holds what kinds read once per binding (Once).
	once map[string]any
}

// host is the door to the host a resource names: the SSH host (one per
// name), or the local machine with no link followed below its root or the
// configuration directory.
func (b *binding) host(r schema.Ref) host.Host {
	if h := b.cfg.Host(r); h != nil && h.SSH != nil {
		if s := b.remotes[h.Name]; s != nil {
			return s
		}
		s := host.NewSSH(host.SSHConfig{
			Name:         "host." + h.Name,
			Address:      net.JoinHostPort(h.Address, strconv.Itoa(h.SSH.PortNumber)),
			User:         h.SSH.User,
			IdentityFile: h.SSH.IdentityFile,
			KnownHosts:   h.SSH.KnownHosts,
			Jump:         h.SSH.Jump,
			Become:       h.SSH.Become,
			Root:         h.Root,
			Env:          environment(h),
			Policy:       b.policy,
		})
		b.remotes[h.Name] = s
		return s
	}
	roots := []string{b.cfg.Dir}
	if h := b.cfg.Host(r); h != nil && h.Root != "" {
		roots = append(roots, b.cfg.LocalPath(r, "/"))
	}
	return host.Local{Roots: roots, Env: environment(b.cfg.Host(r))}
}

// environment is what a host block sets for commands, NAME=VALUE sorted.
func environment(h *schema.Host) []string {
	if h == nil {
		return nil
	}
	var out []string
	for name, v := range h.Environment {
		out = append(out, name+"="+v)
	}
	slices.Sort(out)
	return out
}

var _ providers.Binding = (*binding)(nil)

func (b *binding) Config() *schema.Config      { return b.cfg }
func (b *binding) Now() time.Time              { return b.now() }
func (b *binding) Host(r schema.Ref) host.Host { return b.host(r) }
func (b *binding) Bound(a schema.Address) any  { return b.bound[a] }

func (b *binding) Once(key string, make func() any) any {
	if v, ok := b.once[key]; ok {
		return v
	}
	v := make()
	b.once[key] = v
	return v
}

// HTTP01Check is the acme-challenge-not-redirected rule's round trip, kept
// for the run's drift checks.
func (b *binding) HTTP01Check(cert providers.Cert, webroot host.Host, dir string, dial func(name string) map[string]string) func(ctx context.Context, domains []string) error {
	check := rules.ACMEChallengeNotRedirected.PreCheck(webroot, dir, dial)
	b.challenges = append(b.challenges, engine.Challenge{Cert: cert, Check: check})
	return check
}

func (b *binding) All() []any { return b.all }
