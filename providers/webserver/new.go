package webserver

import (
	"fmt"
	"net"
	"strings"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/internal/probe"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// New binds a vhost block: the site rendered for its server, the file on h,
// and the prober of its running server (none when reload_command is empty:
// no server runs, as in the quickstart). cert is the certificate the vhost
// serves, nil for plain HTTP; installed reads the host's package database
// (Installed), nil for none.
func New(cfg *schema.Config, v *VhostBlock, h host.Host, cert providers.KeyDeployer, installed func(server string) Versions) *Vhost {
	var r Renderer = Nginx{}
	if v.Server == "apache" {
		r = Apache{}
	}
	target := cfg.Target // as the server sees it
	listen, _ := ParseListen(v.Listen)
	site := Site{
		Address:       "vhost." + v.Name,
		Listen:        listen,
		Names:         v.ServerNames,
		Root:          target(v.Root),
		RedirectHTTPS: v.RedirectHTTPS,
		ACMEWebroot:   target(v.ACMEWebroot),
		Versions:      Versions{Server: v.ServerVersion, OpenSSL: v.OpenSSLVersion},
	}
	if c, ok := cfg.Block(v.Certificate.Address).(providers.Certified); ok {
		site.CertFile, site.KeyFile = target(c.Cert().CertFile), target(c.Cert().KeyFile)
		site.Protocols, site.Ciphers = policyOf(cfg, v.TLSPolicy).Effective()
		site.Mozilla = policyOf(cfg, v.TLSPolicy).Mozilla()
	}
	if hs := v.HSTS; hs != nil {
		site.HSTS = HSTSHeader(hs.MaxAge, hs.IncludeSubdomains, hs.Preload)
	}
	if src, ok := cfg.Block(v.HSTSFrom.Address).(*VhostBlock); ok && src.HSTS != nil && (src.HSTS.OnHTTP == nil || *src.HSTS.OnHTTP) {
		site.HSTS = HSTSHeader(src.HSTS.MaxAge, src.HSTS.IncludeSubdomains, src.HSTS.Preload)
	}
	sc := &ServerConfig{
		Host:          h,
		Renderer:      r,
		Site:          site,
		TargetPath:    target(v.ConfigFile),
		Path:          cfg.LocalPath(v.Host, v.ConfigFile),
		TestCommand:   r.DefaultTestCommand(),
		ReloadCommand: r.DefaultReloadCommand(),
	}
	if installed != nil {
		sc.Installed = func() Versions { return installed(v.Server) }
	}
	if v.TestCommand != nil {
		sc.TestCommand = *v.TestCommand
	}
	if v.ReloadCommand != nil {
		sc.ReloadCommand = *v.ReloadCommand
	}
	out := &Vhost{ServerConfig: sc, Probe: Prober(cfg, v), ConfigFile: v.ConfigFile,
		Description: fmt.Sprintf("%s %s, %s", v.Server, v.Listen, strings.Join(v.ServerNames, " "))}
	if cert != nil {
		out.Certificate, out.CertAddr = cert, v.Certificate.Address
	}
	return out
}

// Prober returns the prober of a vhost with a running server, or nil.
func Prober(cfg *schema.Config, v *VhostBlock) *probe.Vhost {
	if v.ReloadCommand != nil && *v.ReloadCommand == "" {
		return nil
	}
	listen, _ := ParseListen(v.Listen)
	addr, port, _ := net.SplitHostPort(listen)
	if addr == "*" {
		addr = "127.0.0.1"
		if h := cfg.Host(v.Host); h != nil && h.Address != "" {
			addr = h.Address
		}
	}
	return &probe.Vhost{
		Addr:        net.JoinHostPort(strings.Trim(addr, "[]"), port),
		Names:       v.ServerNames,
		TLS:         v.Certificate.Set(),
		ACMEWebroot: v.ACMEWebroot != "",
	}
}
