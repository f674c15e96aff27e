package schema

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// file() is the one way the language reads a file, and a configuration may
// come from a pull request whose plan is posted as a comment: whatever
// file() reads can end up in the comment. So it reads only a regular file
// of the configuration directory that is nobody's secret:
//
//   - nothing under .trustform/ (state, the local CA key, account keys);
//   - no link, at the file or on the way to it, and no device or FIFO;
//   - no file other users may not read (a 0600 or 0640 file is a secret,
//     as trustform's own secrets are);
//   - no private key (a PEM "PRIVATE KEY" block);
//   - no file the configuration names as a secret (TSIG secret_file, EAB
//     hmac_key_file, account and CA key_file, certificate key_file, SSH
//     identity_file): those named by a literal are refused before they are
//     read, and every file read is checked against all of them once the
//     configuration is decoded (fileReads).

// secretAttrs are the attributes whose value is the path of a secret.
var secretAttrs = map[string]bool{"secret_file": true, "hmac_key_file": true, "key_file": true,
	"identity_file": true, "token_file": true, "password_file": true, "headers_file": true}

// literalSecrets are the paths that attributes naming secrets hold as
// literals, found in the syntax before anything is evaluated.
func (c *Config) literalSecrets(bodies []hcl.Body) {
	for _, b := range bodies {
		sb, ok := b.(*hclsyntax.Body)
		if !ok {
			continue
		}
		hclsyntax.VisitAll(sb, func(n hclsyntax.Node) hcl.Diagnostics {
			a, ok := n.(*hclsyntax.Attribute)
			if !ok || !secretAttrs[a.Name] {
				return nil
			}
			if v, d := a.Expr.Value(nil); !d.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
				c.secretNames[c.abs(v.AsString())] = true
			}
			return nil
		})
	}
}

// abs is a path as file() and the blocks name it, absolute.
func (c *Config) abs(p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(c.Dir, p)
	}
	return filepath.Clean(p)
}

// fileFunc reads a file of the configuration directory as UTF-8 text.
func (c *Config) fileFunc() function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder {
			return b.NotNull()
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			b, err := c.readConfigFile(name)
			if err != nil {
				return cty.NilVal, fmt.Errorf("file(%q): %w", name, err)
			}
			return cty.StringVal(string(b)), nil
		},
	})
}

// readConfigFile reads name for file(), or says why not.
func (c *Config) readConfigFile(name string) ([]byte, error) {
	rel := filepath.Clean(name)
	if filepath.IsAbs(rel) {
		r, err := filepath.Rel(c.Dir, rel)
		if err != nil {
			return nil, err
		}
		rel = r
	}
	if rel == ".." || strings.HasPrefix(rel, "../") || rel == "." {
		return nil, fmt.Errorf("paths are relative to the configuration directory and stay inside it")
	}
	if first, _, _ := strings.Cut(rel, string(filepath.Separator)); first == ".trustform" {
		return nil, fmt.Errorf(".trustform/ holds trustform's state and keys: file() never reads it")
	}
	abs := filepath.Join(c.Dir, rel)
	if c.secretNames[abs] {
		return nil, fmt.Errorf("the configuration names it as a secret: file() never reads it")
	}
	root, err := os.OpenRoot(c.Dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	// No link on the way: each directory and the file itself as they are.
	parts := strings.Split(rel, string(filepath.Separator))
	for i := range parts {
		st, err := root.Lstat(filepath.Join(parts[:i+1]...))
		if err != nil {
			return nil, fmt.Errorf("%w (paths are relative to the configuration directory and stay inside it)", err)
		}
		switch last := i == len(parts)-1; {
		case st.Mode()&fs.ModeSymlink != 0:
			return nil, fmt.Errorf("%s is a symbolic link: file() reads only regular files of the configuration", filepath.Join(parts[:i+1]...))
		case !last && !st.IsDir():
			return nil, fmt.Errorf("%s is not a directory", filepath.Join(parts[:i+1]...))
		case last && !st.Mode().IsRegular():
			return nil, fmt.Errorf("not a regular file: file() reads only regular files of the configuration")
		case last && st.Mode().Perm()&0o004 == 0:
			return nil, fmt.Errorf("mode %04o: a file other users may not read is a secret, and file() never reads one", st.Mode().Perm())
		case last && st.Size() > MaxFileSize:
			return nil, fmt.Errorf("%d bytes, more than %d", st.Size(), MaxFileSize)
		}
	}
	f, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o004 == 0 {
		return nil, fmt.Errorf("changed while it was read")
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("more than %d bytes", MaxFileSize)
	}
	if bytes.Contains(b, []byte("PRIVATE KEY-----")) {
		return nil, fmt.Errorf("it holds a private key: file() never reads one")
	}
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("not UTF-8 text")
	}
	c.fileReads = append(c.fileReads, abs)
	return b, nil
}

// checkFileReads refuses a configuration that read, through file(), a file
// one of its blocks names as a secret.
func (c *Config) checkFileReads() hcl.Diagnostics {
	var diags hcl.Diagnostics
	secrets := c.SecretFiles()
	for _, p := range c.fileReads {
		if what := secrets[p]; what != "" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "file() reads a secret",
				Detail: fmt.Sprintf("file(%q) reads %s. file() never reads a secret: its content would reach plans and pull-request comments.", relTo(c.Dir, p), what)})
		}
	}
	return diags
}

func relTo(dir, p string) string {
	if r, err := filepath.Rel(dir, p); err == nil {
		return r
	}
	return p
}

// SecretFiles are the files on this machine that the configuration names
// as secrets, by absolute path, each with what it is: its credentials, and
// the private keys it keeps.
func (c *Config) SecretFiles() map[string]string { return c.secretFiles(false) }

// credentialFiles are the files holding the runner's credentials: TSIG
// secrets, EAB HMAC keys, ACME account keys, SSH identities.
func (c *Config) credentialFiles() map[string]string { return c.secretFiles(true) }

func (c *Config) secretFiles(credentials bool) map[string]string {
	secrets := map[string]string{}
	c.Each(func(_ Address, _ hcl.Range, b Block) {
		fn, ok := b.(FileNamer)
		if !ok {
			return
		}
		for _, f := range fn.Files() {
			if f.Secret == "" || f.Path == "" || credentials && !f.Credential {
				continue
			}
			if h := c.Host(f.Host); h != nil && h.SSH != nil {
				continue // on another machine: file() cannot reach it
			}
			secrets[c.LocalPath(f.Host, f.Path)] = f.Secret
		}
	})
	return secrets
}
