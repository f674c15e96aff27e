package certificate

import (
	"io/fs"
	"slices"
)

// Adoption of certbot's files. certbot keeps cert_file and key_file as
// symbolic links (live/NAME/fullchain.pem → ../../archive/NAME/…), which
// trustform neither trusts as a key nor writes through. An import that
// names them adopts the links as they are: state keeps, per linked file,
// the key it leads to; while each still leads to that key the key is the
// one adopted (not another user's), and the deployment that replaces it
// removes the link before writing a file of its own there.

// links notes which of cert_file and key_file are symbolic links now.
func (c *Certificate) observeLinks() error {
	c.links = map[string]string{}
	for name, p := range map[string]string{"cert_file": c.CertPath, "key_file": c.KeyPath} {
		st, err := c.Host.Stat(p)
		if err != nil {
			return err
		}
		if st != nil && st.Mode()&fs.ModeSymlink != 0 {
			c.links[name] = p
		}
	}
	return nil
}

// Adoption is, for each of cert_file and key_file that is a link, the
// key it leads to now (a chain whose key matches its key file only).
func (c *Certificate) Adoption() map[string]string {
	if len(c.links) == 0 || len(c.Chain) == 0 || c.LiveKey == nil || SPKIHash(c.LiveKey) != SPKIHash(c.Chain[0].PublicKey) {
		return nil
	}
	out := map[string]string{}
	for name := range c.links {
		out[name] = "spki:" + SPKIHash(c.LiveKey)
	}
	return out
}

// adoptLinks takes what an import adopted: the links that still lead to
// the adopted key are trustform's to replace, and the key behind them is
// not another user's. It returns their paths, for the deployment.
func (c *Certificate) adoptLinks(adopted map[string]string) []string {
	if len(c.links) == 0 || len(c.Chain) == 0 || c.LiveKey == nil {
		return nil
	}
	var paths []string
	for name, p := range c.links {
		if adopted[name] != "" && adopted[name] == "spki:"+SPKIHash(c.LiveKey) && SPKIHash(c.LiveKey) == SPKIHash(c.Chain[0].PublicKey) {
			paths = append(paths, p)
		}
	}
	if slices.Contains(paths, c.KeyPath) { // the key the import adopted: a link has no mode or owner of its own
		c.KeyPlanted, c.KeyForeign, c.KeyMode = "", "", 0o600
	}
	slices.Sort(paths)
	return paths
}
