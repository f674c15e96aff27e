// Package netpolicy says where trustform may connect, and whether it may
// quote what servers answer. A plan of a pull request (plan -untrusted)
// runs with a Policy in its context: every connection trustform makes
// (DNS, TLS and STARTTLS probes, HTTP fetches, ACME, SSH, PostgreSQL) goes
// through Dialer, which refuses an address outside the runner's allow-list
// (TRUSTFORM_ALLOW_NET) before any packet is sent, and answers are not
// quoted into plans (Answer). Without a Policy in the context, nothing is
// restricted.
//
// The check runs on the address being connected to, after name
// resolution, so a name that resolves outside the list is refused too.
// Names are resolved by the runner's own resolver.
package netpolicy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
)

// Policy is an allow-list of networks.
type Policy struct {
	allow []netip.Prefix
}

// Parse reads an allow-list, "CIDR,CIDR,…" (an address alone is a /32 or
// /128). Empty allows nothing.
func Parse(list string) (*Policy, error) {
	p := &Policy{}
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("TRUSTFORM_ALLOW_NET: %q is not a CIDR prefix or an address", f)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		p.allow = append(p.allow, pfx.Masked())
	}
	return p, nil
}

// String lists the allowed networks.
func (p *Policy) String() string {
	var parts []string
	for _, a := range p.allow {
		parts = append(parts, a.String())
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// Allows says whether addr may be connected to.
func (p *Policy) Allows(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, a := range p.allow {
		if a.Contains(addr) {
			return true
		}
	}
	return false
}

type key struct{}

// With is ctx under p.
func With(ctx context.Context, p *Policy) context.Context {
	if p == nil {
		return ctx
	}
	return context.WithValue(ctx, key{}, p)
}

// From is the policy of ctx, nil for none.
func From(ctx context.Context) *Policy {
	p, _ := ctx.Value(key{}).(*Policy)
	return p
}

// Check refuses a connection to address ("ip:port", as resolved) that the
// policy of ctx does not allow. Unix sockets are not network.
func Check(ctx context.Context, network, address string) error {
	p := From(ctx)
	if p == nil || strings.HasPrefix(network, "unix") {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		host = address
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil || !p.Allows(a) {
		return fmt.Errorf("%s is outside the networks this untrusted plan may reach (TRUSTFORM_ALLOW_NET: %s): not contacted", address, p)
	}
	return nil
}

// Dialer returns d (a new one when nil) checking every address it
// connects to against the policy of the dial's context.
func Dialer(d *net.Dialer) *net.Dialer {
	if d == nil {
		d = &net.Dialer{}
	}
	out := *d
	prev := d.ControlContext
	out.ControlContext = func(ctx context.Context, network, address string, c syscall.RawConn) error {
		if err := Check(ctx, network, address); err != nil {
			return err
		}
		if prev != nil {
			return prev(ctx, network, address, c)
		}
		return nil
	}
	return &out
}

// Answer is what a server said, as an error or a plan may quote it: as it
// is, or, under a policy (an untrusted plan), only its size and digest.
// What a server answers a pull request's plan must not reach the
// comment: it may be a banner of an internal host or a crafted text.
func Answer(ctx context.Context, s string) string {
	if From(ctx) == nil {
		return strconv.Quote(s)
	}
	sum := sha256.Sum256([]byte(s))
	return fmt.Sprintf("(an answer of %d bytes, sha256 %s…, not quoted in an untrusted plan)", len(s), hex.EncodeToString(sum[:])[:12])
}

// CheckRemote checks an address that another machine connects to for
// trustform (an SSH jump host's onward connection): its name is resolved
// here, and every address it has must be allowed.
func CheckRemote(ctx context.Context, hostport string) error {
	if From(ctx) == nil {
		return nil
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return err
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if err := Check(ctx, "tcp", net.JoinHostPort(a.String(), port)); err != nil {
			return err
		}
	}
	return nil
}
