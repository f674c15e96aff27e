package schema

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

func errAt(rng hcl.Range, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng.Ptr()}
}

// validate checks each block on its own, after references are resolved,
// then the blocks of each kind together, then what the language itself
// asks of all blocks: one state block, and files managed once.
func (c *Config) validate() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, k := range c.kinds {
		// A block holding a value not known (validate without a variable's
		// value) is checked for its structure and references only.
		blocks := slices.DeleteFunc(slices.Clone(c.byType[k.Type]), func(b Block) bool { return c.partial[b] })
		for _, b := range blocks {
			if v, ok := b.(Validator); ok {
				diags = append(diags, v.Validate(c)...)
			}
		}
		if k.Check != nil {
			diags = append(diags, k.Check(c, blocks)...)
		}
	}
	diags = append(diags, c.validateState()...)
	diags = append(diags, c.validateManagedFiles()...)
	return diags
}

// Validate checks a host block and fills in its ssh block's defaults.
func (h *Host) Validate(c *Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	diags = appendNonNil(diags, c.checkPath(h.RootRange, "root", h.Root))
	if h.Address != "" && net.ParseIP(h.Address) == nil {
		diags = appendNonNil(diags, checkHostname(h.AddressRange, "address", h.Address, false, false))
	}
	diags = append(diags, validateSSH(h)...)
	for name, v := range h.Environment {
		if !envName.MatchString(name) || strings.ContainsRune(v, 0) {
			diags = append(diags, errAt(h.EnvironmentRange, "Invalid environment variable",
				fmt.Sprintf("%q: environment names are letters, digits and _, not starting with a digit, and values hold no NUL byte.", name)))
		}
	}
	return diags
}

func hostName(r Ref) string {
	if !r.Set() {
		return "the machine trustform runs on"
	}
	return r.Address.String()
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

func appendNonNil(diags hcl.Diagnostics, d *hcl.Diagnostic) hcl.Diagnostics {
	if d == nil {
		return diags
	}
	return append(diags, d)
}

// validateManagedFiles: a file trustform writes (and shows in plans) is
// never one of its secrets nor anything in its state directory, and is
// managed by one block only. A config_file naming the local CA's key would
// print the key in the plan that CI posts on the pull request, and write a
// vhost over it.
func (c *Config) validateManagedFiles() hcl.Diagnostics {
	type managed struct {
		what string // "certificate.www key_file"
		rng  hcl.Range
		path string
		host string // "" for this machine, else the SSH host's name
	}
	var all []managed
	var diags hcl.Diagnostics
	add := func(addr Address, attr string, rng hcl.Range, host Ref, p string) {
		if p == "" {
			return
		}
		m := managed{addr.String() + " " + attr, rng, c.LocalPath(host, p), ""}
		if h := c.Host(host); h != nil && h.SSH != nil {
			if !filepath.IsAbs(p) {
				diags = append(diags, errAt(rng, "Relative path on an SSH host", fmt.Sprintf("%s %s %q is on host.%s, reached over SSH: write the path as the host sees it, absolute.", addr, attr, p, h.Name)))
				return
			}
			m.host = h.Name
		}
		all = append(all, m)
	}
	c.Each(func(addr Address, _ hcl.Range, b Block) {
		if fn, ok := b.(FileNamer); ok {
			for _, f := range fn.Files() {
				if f.Managed {
					add(addr, f.Attr, f.Range, f.Host, f.Path)
				}
			}
		}
	})
	secrets := c.credentialFiles()
	seen := map[string]managed{}
	stateDir := c.StateDir() + string(filepath.Separator)
	for _, m := range all {
		key := m.host + ":" + m.path
		switch prev, dup := seen[key]; {
		case m.host == "" && strings.HasPrefix(m.path+string(filepath.Separator), stateDir):
			diags = append(diags, errAt(m.rng, "Managed file in the state directory",
				fmt.Sprintf("%s is %s, inside %s, where trustform keeps its state and secrets (the local CA key, ACME account keys). Choose a path outside it.", m.what, m.path, c.StateDir())))
		case m.host == "" && secrets[m.path] != "":
			diags = append(diags, errAt(m.rng, "Managed file is a secret",
				fmt.Sprintf("%s is %s, %s. trustform would show and overwrite it.", m.what, m.path, secrets[m.path])))
		case dup:
			diags = append(diags, errAt(m.rng, "Two blocks manage one file",
				fmt.Sprintf("%s and %s (%s) are both %s; each would overwrite the other.", m.what, prev.what, prev.rng, m.path)))
		default:
			seen[key] = m
		}
	}
	return diags
}

// validateSSH fills in an ssh block's defaults: the local user's name, port
// 22, ~/.ssh/known_hosts, root "/".
func validateSSH(h *Host) hcl.Diagnostics {
	s := h.SSH
	if s == nil {
		return nil
	}
	var diags hcl.Diagnostics
	if h.Address == "" {
		diags = append(diags, errAt(s.DeclRange, "SSH host without an address", fmt.Sprintf("host.%s has an ssh block: set address, the name or IP trustform connects to.", h.Name)))
	}
	if h.Root == "" {
		h.Root = "/"
	} else if !strings.HasPrefix(h.Root, "/") {
		diags = append(diags, errAt(h.RootRange, "Relative root on an SSH host", "root is a directory on the remote host: write it as an absolute path."))
	}
	s.PortNumber = 22
	if s.Port != nil {
		if *s.Port < 1 || *s.Port > 65535 {
			diags = append(diags, errAt(s.PortRange, "Port out of range", fmt.Sprintf("port must be 1 to 65535; got %d.", *s.Port)))
		}
		s.PortNumber = *s.Port
	}
	if s.User == "" {
		if u, err := user.Current(); err == nil {
			s.User = u.Username
		}
	}
	home, _ := os.UserHomeDir()
	expand := func(p string) string {
		if rest, ok := strings.CutPrefix(p, "~/"); ok {
			return filepath.Join(home, rest)
		}
		return p
	}
	if s.KnownHosts == "" {
		s.KnownHosts = "~/.ssh/known_hosts"
	}
	s.KnownHosts, s.IdentityFile = expand(s.KnownHosts), expand(s.IdentityFile)
	return diags
}

// validateState: at most one state block, of a known type, with no
// password in its connection string (libpq's PGPASSWORD, PGPASSFILE and
// ~/.pgpass give it; a configuration is reviewed in pull requests).
func (c *Config) validateState() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for i, s := range c.states {
		switch {
		case i > 0:
			diags = append(diags, errAt(s.DeclRange, "Two state blocks", fmt.Sprintf("State is kept in one place; the first state block is at %s.", c.states[0].DeclRange)))
			continue
		case s.Type != "postgres":
			diags = append(diags, errAt(s.DeclRange, "Unknown state store", fmt.Sprintf("state %q: the only store besides .trustform/ is \"postgres\".", s.Type)))
			continue
		}
		hasPw := strings.Contains(strings.ToLower(s.ConnStr), "password=")
		if u, err := url.Parse(s.ConnStr); err == nil && u.User != nil {
			_, inURL := u.User.Password()
			hasPw = hasPw || inURL
		}
		if hasPw {
			diags = append(diags, errAt(s.ConnStrRange, "Password in conn_str",
				"The connection string is part of the configuration, which is reviewed and stored in repositories: leave the password out and give it through PGPASSWORD, PGPASSFILE or ~/.pgpass."))
			continue
		}
		if s.Schema == "" {
			s.Schema = "trustform"
		}
		if s.Name == "" {
			s.Name = "default"
		}
		c.State = s
	}
	return diags
}
