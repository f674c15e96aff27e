package schema

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/hashicorp/hcl/v2"
)

// The settings of ACME accounts and orders that production CAs ask for:
// external account binding, terms of service, profiles, preferred chains.

// tokenGrammar: a profile name and an EAB key id are tokens the CA hands
// out; they travel in JSON and are shown in plans, never in a server file.
var tokenGrammar = grammar{"a token", func(r rune) bool {
	return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-:+/=", r))
}, "ASCII letters, digits and . _ - : + / ="}

func (c *Config) validateACMEOrder(b *Certificate) hcl.Diagnostics {
	var diags hcl.Diagnostics
	acme := b.Issuer.Type == "acme_account"
	for _, o := range []struct {
		attr, v string
		rng     hcl.Range
	}{{"profile", b.Profile, b.ProfileRange}, {"preferred_chain", b.PreferredChain, b.PreferredRange}} {
		switch {
		case o.v == "":
		case !acme:
			diags = append(diags, errAt(o.rng, "Not an ACME certificate", fmt.Sprintf("%s is an ACME order setting; certificate.%s is issued by %s.", o.attr, b.Name, b.Issuer.Address)))
		case o.attr == "profile":
			diags = appendNonNil(diags, tokenGrammar.check(o.rng, o.attr, o.v))
		case strings.ContainsFunc(o.v, unicode.IsControl):
			diags = append(diags, errAt(o.rng, "Invalid character in preferred_chain", fmt.Sprintf("preferred_chain is a common name; %q has a control character.", o.v)))
		}
	}
	for _, f := range []struct {
		attr, v string
		rng     hcl.Range
	}{{"fullchain_file", b.FullchainFile, b.FullchainRange}, {"chain_file", b.ChainFile, b.ChainFileRange}, {"bundle_file", b.BundleFile, b.BundleFileRange}} {
		diags = appendNonNil(diags, c.checkPath(f.rng, f.attr, f.v)) // collisions: validateManagedFiles
	}
	return diags
}

// parseRenewBefore reads renew_before: a duration ("30d") or a fraction
// of the certificate's lifetime ("1/3", certbot's rule for short-lived
// certificates). Unset leaves both zero: the default.
func (b *Certificate) parseRenewBefore() hcl.Diagnostics {
	b.RenewBeforeDuration, b.RenewBeforeFraction = 0, 0
	if b.RenewBefore == "" {
		return nil
	}
	if n, m, ok := strings.Cut(b.RenewBefore, "/"); ok {
		num, err1 := strconv.Atoi(strings.TrimSpace(n))
		den, err2 := strconv.Atoi(strings.TrimSpace(m))
		if err1 != nil || err2 != nil || num < 1 || den > 100 || num >= den {
			return hcl.Diagnostics{errAt(b.RenewBeforeRange, "Invalid fraction", fmt.Sprintf("renew_before %q: a fraction of the lifetime is N/M with 1 ≤ N < M ≤ 100, as \"1/3\".", b.RenewBefore))}
		}
		b.RenewBeforeFraction = float64(num) / float64(den)
		return nil
	}
	d, err := ParseDuration(b.RenewBefore)
	if err != nil {
		return hcl.Diagnostics{errAt(b.RenewBeforeRange, "Invalid duration", err.Error()+` (or a fraction of the lifetime, as "1/3")`)}
	}
	b.RenewBeforeDuration = d
	return nil
}
