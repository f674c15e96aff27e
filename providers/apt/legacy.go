package apt

import (
	"bytes"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// legacyKeyrings lists APT's global keyrings, which trust a key for every
// repository: trusted.gpg (apt-key's) and the files of trusted.gpg.d/.
func (k *Key) legacyKeyrings() ([]string, error) {
	if k.EtcApt == "" {
		return nil, nil
	}
	paths := []string{filepath.Join(k.EtcApt, "trusted.gpg")}
	for _, pattern := range []string{"*.gpg", "*.asc"} {
		m, err := k.Host.Glob(filepath.Join(k.EtcApt, "trusted.gpg.d", pattern))
		if err != nil {
			return nil, err
		}
		paths = append(paths, m...)
	}
	slices.Sort(paths)
	return paths, nil
}

// findLegacy returns the global keyrings that hold the pinned key.
func (k *Key) findLegacy() ([]string, error) {
	paths, err := k.legacyKeyrings()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range paths {
		el, err := k.readKeyringFile(p)
		if err != nil {
			return nil, err
		}
		for _, e := range el {
			if fingerprint(e) == k.Fingerprint {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// readKeyringFile parses a keyring; missing files and GnuPG keybox files
// (which OpenPGP libraries do not read; gpg manages those) hold nothing here.
func (k *Key) readKeyringFile(path string) (openpgp.EntityList, error) {
	b, err := k.Host.ReadFile(path)
	if err != nil || len(b) == 0 {
		return nil, err
	}
	if len(b) >= 12 && bytes.Equal(b[8:12], []byte("KBXf")) {
		return nil, nil
	}
	el, err := readKeys(b)
	if err != nil {
		return nil, fmt.Errorf("keyring %s: %w", path, err)
	}
	return el, nil
}

// removeLegacy takes the key out of every global keyring: a file that held
// only this key goes, others are rewritten without it.
func (k *Key) removeLegacy() error {
	for _, p := range k.legacy {
		el, err := k.readKeyringFile(p)
		if err != nil {
			return err
		}
		var keep []*openpgp.Entity
		for _, e := range el {
			if fingerprint(e) != k.Fingerprint {
				keep = append(keep, e)
			}
		}
		if len(keep) == 0 {
			if err := k.Host.Remove(p); err != nil {
				return err
			}
			continue
		}
		out, err := serialize(p, keep)
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if st, err := k.Host.Stat(p); err == nil && st != nil {
			mode = st.Mode().Perm()
		}
		if err := k.Host.WriteFile(p, out, mode); err != nil {
			return err
		}
	}
	return nil
}
