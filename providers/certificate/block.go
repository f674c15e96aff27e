package certificate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/schema"
)

// Block is a certificate block: a certificate and its private key,
// deployed as files.
type Block struct {
	Name        string         `hcl:"name,label"`
	Domains     []string       `hcl:"domains"`
	IssuerExpr  hcl.Expression `hcl:"issuer"`
	Challenge   string         `hcl:"challenge,optional"`
	KeyType     string         `hcl:"key_type,optional"`
	ReuseKey    *bool          `hcl:"reuse_key,optional"`
	CertFile    string         `hcl:"cert_file"`
	KeyFile     string         `hcl:"key_file"`
	RenewBefore string         `hcl:"renew_before,optional"`
	HostExpr    hcl.Expression `hcl:"host,optional"`
	// HTTPAddress is where lego's own http-01 server listens when no vhost
	// serves the names (default ":80").
	HTTPAddress string `hcl:"http_address,optional"`
	// Profile is the ACME profile to order (the directory's meta.profiles).
	Profile string `hcl:"profile,optional"`
	// PreferredChain is the common name of the root (or of an issuer in
	// the chain) to prefer among the CA's alternate chains.
	PreferredChain string `hcl:"preferred_chain,optional"`
	// Optional files written with cert_file and key_file: the chain
	// (leaf and intermediates, like cert_file), the intermediates alone,
	// and leaf, intermediates and key in one file (0600, for HAProxy).
	FullchainFile string `hcl:"fullchain_file,optional"`
	ChainFile     string `hcl:"chain_file,optional"`
	BundleFile    string `hcl:"bundle_file,optional"`
	// FallbackExpr lists the issuers tried in order after issuer when it
	// fails (failover.go): fallback_issuers, failover_after,
	// failover_before.
	FallbackExpr   hcl.Expression `hcl:"fallback_issuers,optional"`
	FailoverAfter  string         `hcl:"failover_after,optional"`
	FailoverBefore string         `hcl:"failover_before,optional"`

	DomainsRange     hcl.Range `hcl:"domains,attr_value_range"`
	CertFileRange    hcl.Range `hcl:"cert_file,attr_value_range"`
	KeyFileRange     hcl.Range `hcl:"key_file,attr_value_range"`
	ChallengeRange   hcl.Range `hcl:"challenge,attr_value_range"`
	KeyTypeRange     hcl.Range `hcl:"key_type,attr_value_range"`
	RenewBeforeRange hcl.Range `hcl:"renew_before,attr_value_range"`
	ProfileRange     hcl.Range `hcl:"profile,attr_value_range"`
	PreferredRange   hcl.Range `hcl:"preferred_chain,attr_value_range"`
	FullchainRange   hcl.Range `hcl:"fullchain_file,attr_value_range"`
	ChainFileRange   hcl.Range `hcl:"chain_file,attr_value_range"`
	BundleFileRange  hcl.Range `hcl:"bundle_file,attr_value_range"`
	AfterRange       hcl.Range `hcl:"failover_after,attr_value_range"`
	BeforeRange      hcl.Range `hcl:"failover_before,attr_value_range"`
	DeclRange        hcl.Range `hcl:",def_range"`

	Issuer    schema.Ref
	Fallbacks []schema.Ref // fallback_issuers, resolved
	Host      schema.Ref
	// FailoverAfterDuration and FailoverBeforeDuration are the parsed
	// failover_after (zero: a third of what is left of the certificate's
	// life when the issuer started failing) and failover_before (default
	// 7 days).
	FailoverAfterDuration, FailoverBeforeDuration schema.Duration
	fallbackElems                                 []hcl.Expression
	// RenewBeforeDuration is RenewBefore parsed when it is a duration;
	// RenewBeforeFraction when it is a fraction of the lifetime ("1/3").
	// Neither set: 30 days, or a third of a lifetime under 30 days.
	RenewBeforeDuration schema.Duration
	RenewBeforeFraction float64
}

// Validate checks a certificate block and fills in its defaults: key
// type ec256, the key reused at renewal, http-01 for an ACME issuer.
func (b *Block) Validate(c *schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if len(b.Domains) == 0 {
		diags = append(diags, schema.ErrAt(b.DomainsRange, "No domains", "A certificate needs at least one domain."))
	}
	for _, d := range b.Domains {
		if schema.CheckHostname(b.DomainsRange, "domains", d, true, false) != nil || strings.HasSuffix(d, ".") {
			diags = append(diags, schema.ErrAt(b.DomainsRange, "Invalid domain", fmt.Sprintf("%q is not a domain name (write names without a trailing dot).", d)))
		}
	}
	diags = schema.Append(diags, c.CheckPath(b.CertFileRange, "cert_file", b.CertFile))
	diags = schema.Append(diags, c.CheckPath(b.KeyFileRange, "key_file", b.KeyFile))
	if b.KeyType == "" {
		b.KeyType = "ec256"
	}
	if !slices.Contains(KeyTypes(), b.KeyType) {
		diags = append(diags, schema.ErrAt(b.KeyTypeRange, "Invalid key type", fmt.Sprintf("%q is not one of %s.", b.KeyType, strings.Join(KeyTypes(), ", "))))
	}
	if b.Issuer.Type == "acme_account" && b.Challenge == "" {
		b.Challenge = "http-01"
	}
	if b.Challenge != "" && b.Challenge != "http-01" && b.Challenge != "dns-01" {
		diags = append(diags, schema.ErrAt(b.ChallengeRange, "Invalid challenge", fmt.Sprintf("%q is not \"http-01\" or \"dns-01\".", b.Challenge)))
	}
	if b.ReuseKey == nil {
		t := true
		b.ReuseKey = &t
	}
	diags = append(diags, b.parseRenewBefore()...)
	diags = append(diags, b.validateFailover()...)
	diags = append(diags, validateACMEOrder(c, b)...)
	if b.CertFile == b.KeyFile {
		diags = append(diags, schema.ErrAt(b.DeclRange, "Certificate and key share a file", "cert_file and key_file must differ: the key file is private (mode 0600)."))
	}
	return diags
}

func validateACMEOrder(c *schema.Config, b *Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	acme := b.Issuer.Type == "acme_account"
	for _, o := range []struct {
		attr, v string
		rng     hcl.Range
	}{{"profile", b.Profile, b.ProfileRange}, {"preferred_chain", b.PreferredChain, b.PreferredRange}} {
		switch {
		case o.v == "":
		case !acme:
			diags = append(diags, schema.ErrAt(o.rng, "Not an ACME certificate", fmt.Sprintf("%s is an ACME order setting; certificate.%s is issued by %s.", o.attr, b.Name, b.Issuer.Address)))
		case o.attr == "profile":
			diags = schema.Append(diags, schema.CheckToken(o.rng, o.attr, o.v))
		case strings.ContainsFunc(o.v, unicode.IsControl):
			diags = append(diags, schema.ErrAt(o.rng, "Invalid character in preferred_chain", fmt.Sprintf("preferred_chain is a common name; %q has a control character.", o.v)))
		}
	}
	for _, f := range []struct {
		attr, v string
		rng     hcl.Range
	}{{"fullchain_file", b.FullchainFile, b.FullchainRange}, {"chain_file", b.ChainFile, b.ChainFileRange}, {"bundle_file", b.BundleFile, b.BundleFileRange}} {
		diags = schema.Append(diags, c.CheckPath(f.rng, f.attr, f.v)) // collisions: validateManagedFiles
	}
	return diags
}

// parseRenewBefore reads renew_before: a duration ("30d") or a fraction
// of the certificate's lifetime ("1/3", certbot's rule for short-lived
// certificates). Unset leaves both zero: the default.
func (b *Block) parseRenewBefore() hcl.Diagnostics {
	b.RenewBeforeDuration, b.RenewBeforeFraction = 0, 0
	if b.RenewBefore == "" {
		return nil
	}
	if n, m, ok := strings.Cut(b.RenewBefore, "/"); ok {
		num, err1 := strconv.Atoi(strings.TrimSpace(n))
		den, err2 := strconv.Atoi(strings.TrimSpace(m))
		if err1 != nil || err2 != nil || num < 1 || den > 100 || num >= den {
			return hcl.Diagnostics{schema.ErrAt(b.RenewBeforeRange, "Invalid fraction", fmt.Sprintf("renew_before %q: a fraction of the lifetime is N/M with 1 ≤ N < M ≤ 100, as \"1/3\".", b.RenewBefore))}
		}
		b.RenewBeforeFraction = float64(num) / float64(den)
		return nil
	}
	d, err := schema.ParseDuration(b.RenewBefore)
	if err != nil {
		return hcl.Diagnostics{schema.ErrAt(b.RenewBeforeRange, "Invalid duration", err.Error()+` (or a fraction of the lifetime, as "1/3")`)}
	}
	b.RenewBeforeDuration = d
	return nil
}
