package dns

import (
	"encoding/base64"
	"fmt"
	"os"
	"regexp"
	"strings"

	mdns "github.com/miekg/dns"
)

// Algorithms maps the configuration's TSIG algorithm names to miekg/dns's.
var Algorithms = map[string]string{
	"hmac-sha1":   mdns.HmacSHA1,
	"hmac-sha224": mdns.HmacSHA224,
	"hmac-sha256": mdns.HmacSHA256,
	"hmac-sha384": mdns.HmacSHA384,
	"hmac-sha512": mdns.HmacSHA512,
}

// bindSecret finds the secret of a BIND key file; certbotSecret that of
// the credentials file of certbot's dns-rfc2136 plugin.
var (
	bindSecret    = regexp.MustCompile(`secret\s+"([^"]+)"`)
	certbotSecret = regexp.MustCompile(`(?m)^\s*dns_rfc2136_secret\s*=\s*(\S+)\s*$`)
)

// SecretEnv is the environment variable that may hold the secret of a key.
func SecretEnv(keyName string) string {
	return "TRUSTFORM_TSIG_SECRET_" + strings.ToUpper(regexp.MustCompile(`[^A-Za-z0-9]`).ReplaceAllString(strings.TrimSuffix(keyName, "."), "_"))
}

// ReadSecret reads a TSIG secret from file (the bare base64 secret, a
// BIND key file as tsig-keygen writes it, or the credentials file of
// certbot's dns-rfc2136 plugin) or, without a file, from the
// environment variable SecretEnv(keyName). The secret is returned, never
// printed: errors name the file or variable only.
func ReadSecret(file, keyName string, getenv func(string) string) (string, error) {
	var raw string
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("TSIG key %s: %w", keyName, err)
		}
		raw = string(b)
		if m := bindSecret.FindStringSubmatch(raw); m != nil {
			raw = m[1]
		} else if m := certbotSecret.FindStringSubmatch(raw); m != nil {
			raw = m[1]
		}
	} else {
		raw = getenv(SecretEnv(keyName))
		if raw == "" {
			return "", fmt.Errorf("TSIG key %s: set secret_file or %s", keyName, SecretEnv(keyName))
		}
		file = "$" + SecretEnv(keyName)
	}
	raw = strings.TrimSpace(raw)
	if _, err := base64.StdEncoding.DecodeString(raw); err != nil {
		return "", fmt.Errorf("TSIG key %s: %s does not hold a base64 secret", keyName, file)
	}
	return raw, nil
}
