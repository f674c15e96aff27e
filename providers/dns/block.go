package dns

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/schema"
)

// TSIGBlock is a tsig block: the transaction signature key for RFC 2136 updates.
type TSIGBlock struct {
	Name       string `hcl:"name"`
	Algorithm  string `hcl:"algorithm,optional"`
	SecretFile string `hcl:"secret_file,optional"`

	AlgorithmRange hcl.Range `hcl:"algorithm,attr_value_range"`
	DeclRange      hcl.Range `hcl:",def_range"`
}

// APIBlock is an api block: the zone sits behind a DNS host's HTTP API.
type APIBlock struct {
	Type      string `hcl:"type"`
	URL       string `hcl:"url,optional"`
	ServerID  string `hcl:"server_id,optional"`
	ZoneID    string `hcl:"zone_id,optional"`
	TokenFile string `hcl:"token_file,optional"`

	TypeRange      hcl.Range `hcl:"type,attr_value_range"`
	URLRange       hcl.Range `hcl:"url,attr_value_range"`
	TokenFileRange hcl.Range `hcl:"token_file,attr_value_range"`
	DeclRange      hcl.Range `hcl:",def_range"`
}

// ZoneBlock is a dns_zone block: a zone trustform may change, through a
// primary server, a zone file or a DNS host's API.
type ZoneBlock struct {
	Name          string     `hcl:"name,label"`
	Zone          string     `hcl:"name"`
	Server        string     `hcl:"server,optional"`
	TSIG          *TSIGBlock `hcl:"tsig,block"`
	API           *APIBlock  `hcl:"api,block"`
	ZoneFile      string     `hcl:"zone_file,optional"`
	ReloadCommand string     `hcl:"reload_command,optional"`
	Nameservers   []string   `hcl:"nameservers,optional"`
	RequireDNSSEC bool       `hcl:"require_dnssec,optional"`
	// MinValidity (dnssec_min_validity) is how long signatures must still
	// be valid, where longer than the RRset's TTL: shorter is drift.
	MinValidity string `hcl:"dnssec_min_validity,optional"`
	// TrustAnchor (trust_anchor) is where the zone's chain of trust starts:
	// DS or DNSKEY records; default IANA's root anchors. Resolver
	// (host:port) is asked for the chain's DS and DNSKEY RRsets; default
	// the system's.
	TrustAnchor string `hcl:"trust_anchor,optional"`
	Resolver    string `hcl:"resolver,optional"`

	MinValidityRange hcl.Range `hcl:"dnssec_min_validity,attr_value_range"`
	TrustAnchorRange hcl.Range `hcl:"trust_anchor,attr_value_range"`
	ResolverRange    hcl.Range `hcl:"resolver,attr_value_range"`
	ZoneRange        hcl.Range `hcl:"name,attr_value_range"`
	ServerRange      hcl.Range `hcl:"server,attr_value_range"`
	ZoneFileRange    hcl.Range `hcl:"zone_file,attr_value_range"`
	DeclRange        hcl.Range `hcl:",def_range"`

	MinValidityDuration schema.Duration
	Anchor              []mdns.RR // trust_anchor, parsed
}

// TLSABlock is a tlsa block: the DANE TLSA RRset of one service.
type TLSABlock struct {
	Name            string         `hcl:"name,label"`
	ZoneExpr        hcl.Expression `hcl:"zone"`
	Owner           string         `hcl:"name,optional"`
	Port            *int           `hcl:"port,optional"`
	Protocol        string         `hcl:"protocol,optional"`
	Hostname        string         `hcl:"hostname,optional"`
	CertificateExpr hcl.Expression `hcl:"certificate"`
	Usage           *int           `hcl:"usage,optional"`
	Selector        *int           `hcl:"selector,optional"`
	MatchingType    *int           `hcl:"matching_type,optional"`
	TTL             *int           `hcl:"ttl,optional"`
	RolloverWait    string         `hcl:"rollover_wait,optional"`
	PublishNext     bool           `hcl:"publish_next,optional"`

	OwnerRange        hcl.Range `hcl:"name,attr_value_range"`
	PortRange         hcl.Range `hcl:"port,attr_value_range"`
	HostnameRange     hcl.Range `hcl:"hostname,attr_value_range"`
	UsageRange        hcl.Range `hcl:"usage,attr_value_range"`
	SelectorRange     hcl.Range `hcl:"selector,attr_value_range"`
	MatchingTypeRange hcl.Range `hcl:"matching_type,attr_value_range"`
	TTLRange          hcl.Range `hcl:"ttl,attr_value_range"`
	WaitRange         hcl.Range `hcl:"rollover_wait,attr_value_range"`
	PublishNextRange  hcl.Range `hcl:"publish_next,attr_value_range"`
	DeclRange         hcl.Range `hcl:",def_range"`

	Zone        schema.Ref
	Certificate schema.Ref
	// Params are usage, selector and matching type with defaults applied (3 1 1).
	Params [3]uint8
	// FQDN is the owner name of the RRset, fully qualified.
	FQDN string
	// TTLSeconds is TTL with its default (3600).
	TTLSeconds uint32
	// Wait is rollover_wait, default twice the TTL.
	Wait schema.Duration
}

// ZoneName is the zone's name, as configured.
func (z *ZoneBlock) ZoneName() string { return z.Zone }

// Validate checks a dns_zone block and fills in its defaults.
func (z *ZoneBlock) Validate(c *schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	// dns.IsDomainName accepts spaces and newlines, which a zone file's
	// $ORIGIN line would turn into records.
	if d := schema.CheckHostname(z.ZoneRange, "name", z.Zone, false, true); d != nil {
		diags = append(diags, schema.ErrAt(z.ZoneRange, "Invalid zone name", d.Detail))
	}
	diags = schema.Append(diags, c.CheckPath(z.ZoneFileRange, "zone_file", z.ZoneFile))
	switch {
	case z.Server != "" && z.ZoneFile != "":
		diags = append(diags, schema.ErrAt(z.ServerRange, "Conflicting zone access", "Set either server (an RFC 2136 primary) or zone_file, not both."))
	case z.API != nil && (z.Server != "" || z.ZoneFile != ""):
		diags = append(diags, schema.ErrAt(z.API.DeclRange, "Conflicting zone access", "Set one of server (an RFC 2136 primary), zone_file and an api block."))
	case z.API != nil:
		diags = append(diags, validateAPI(c, z)...)
	case z.Server == "" && z.ZoneFile == "":
		diags = append(diags, schema.ErrAt(z.DeclRange, "Missing zone access", "Set server (an RFC 2136 primary as host:port, with a tsig block), zone_file, or an api block (a DNS host's API)."))
	case z.Server != "":
		if _, _, err := net.SplitHostPort(z.Server); err != nil {
			diags = append(diags, schema.ErrAt(z.ServerRange, "Invalid server address", fmt.Sprintf("server must be host:port, e.g. \"192.0.2.53:53\": %v.", err)))
		}
		if z.TSIG == nil {
			diags = append(diags, schema.ErrAt(z.DeclRange, "Missing TSIG key", "Updates to a primary server must be signed: add a tsig { name, algorithm, secret_file } block."))
		}
	}
	if z.MinValidity != "" {
		d, err := schema.ParseDuration(z.MinValidity)
		if err != nil {
			diags = append(diags, schema.ErrAt(z.MinValidityRange, "Invalid duration", err.Error()))
		}
		z.MinValidityDuration = d
	}
	if z.TrustAnchor != "" {
		anchor, err := ParseAnchor(z.TrustAnchor)
		switch {
		case err != nil:
			diags = append(diags, schema.ErrAt(z.TrustAnchorRange, "Invalid trust anchor", err.Error()+`: trust_anchor is the DS or DNSKEY records where the chain of trust starts, e.g. "example. IN DS 12345 13 2 ab…".`))
		case !mdns.IsSubDomain(anchor[0].Header().Name, Fqdn(z.Zone)):
			diags = append(diags, schema.ErrAt(z.TrustAnchorRange, "Invalid trust anchor", fmt.Sprintf("The anchor's records are of %s, which is not %s or above it: the chain of trust runs from the anchor down to the zone.", anchor[0].Header().Name, Fqdn(z.Zone))))
		case !z.RequireDNSSEC:
			diags = append(diags, schema.ErrAt(z.TrustAnchorRange, "trust_anchor needs require_dnssec", "The chain of trust is checked for zones required to be signed: set require_dnssec = true."))
		}
		z.Anchor = anchor
	}
	if z.Resolver != "" {
		if _, port, err := net.SplitHostPort(z.Resolver); err != nil || port == "" {
			diags = append(diags, schema.ErrAt(z.ResolverRange, "Invalid resolver address", fmt.Sprintf("resolver must be host:port, e.g. \"127.0.0.1:53\" (%v).", err)))
		}
	}
	if z.RequireDNSSEC && z.ZoneFile != "" {
		diags = append(diags, schema.ErrAt(z.DeclRange, "require_dnssec needs a server", "Signatures are checked in the answers of the authoritative servers; a zone_file zone has none to ask."))
	}
	if z.TSIG != nil {
		if z.TSIG.Algorithm == "" {
			z.TSIG.Algorithm = "hmac-sha256"
		}
		if !slices.Contains(tsigAlgorithms(), z.TSIG.Algorithm) {
			diags = append(diags, schema.ErrAt(z.TSIG.AlgorithmRange, "Unsupported TSIG algorithm", fmt.Sprintf("%q is not one of %s.", z.TSIG.Algorithm, strings.Join(tsigAlgorithms(), ", "))))
		}
	}
	return diags
}

// Validate checks a tlsa block and fills in its defaults: 3 1 1, TTL
// 3600, rollover_wait twice the TTL, the owner name fully qualified.
func (b *TLSABlock) Validate(c *schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	params := [3]struct {
		v     *int
		def   int
		max   int
		name  string
		rng   hcl.Range
		means string
	}{
		{b.Usage, 3, 3, "usage", b.UsageRange, "0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE"},
		{b.Selector, 1, 1, "selector", b.SelectorRange, "0 full certificate, 1 SubjectPublicKeyInfo"},
		{b.MatchingType, 1, 2, "matching_type", b.MatchingTypeRange, "0 exact, 1 SHA-256, 2 SHA-512"},
	}
	for i, p := range params {
		v := p.def
		if p.v != nil {
			v = *p.v
		}
		if v < 0 || v > p.max {
			diags = append(diags, schema.ErrAt(p.rng, "TLSA "+p.name+" out of range", fmt.Sprintf("%s must be 0 to %d (%s); got %d.", p.name, p.max, p.means, v)))
			continue
		}
		b.Params[i] = uint8(v)
	}
	b.TTLSeconds = 3600
	if b.TTL != nil {
		if *b.TTL < 0 || *b.TTL > 2147483647 {
			diags = append(diags, schema.ErrAt(b.TTLRange, "TTL out of range", fmt.Sprintf("ttl must be 0 to 2147483647 seconds; got %d.", *b.TTL)))
		} else {
			b.TTLSeconds = uint32(*b.TTL)
		}
	}
	if z := zoneOf(c, b.Zone); z != nil && z.API != nil && z.API.Type == "desec" && b.TTLSeconds < DeSECMinTTL {
		rng := b.DeclRange
		if b.TTL != nil {
			rng = b.TTLRange
		}
		diags = append(diags, schema.ErrAt(rng, "TTL below deSEC's minimum",
			fmt.Sprintf("dns_zone.%s is at deSEC, whose smallest TTL is %d seconds; tlsa.%s has %d. Set ttl = %d or more (rollover_wait follows: twice the TTL unless set).", z.Name, DeSECMinTTL, b.Name, b.TTLSeconds, DeSECMinTTL)))
	}
	if z := zoneOf(c, b.Zone); z != nil && z.API != nil && z.API.Type == "cloudflare" && b.TTLSeconds < CloudflareMinTTL {
		rng := b.DeclRange
		if b.TTL != nil {
			rng = b.TTLRange
		}
		diags = append(diags, schema.ErrAt(rng, "TTL below Cloudflare's minimum",
			fmt.Sprintf("dns_zone.%s is at Cloudflare, whose smallest TTL is %d seconds; tlsa.%s has %d.", z.Name, CloudflareMinTTL, b.Name, b.TTLSeconds)))
	}
	b.Wait = 2 * schema.Duration(b.TTLSeconds) * 1e9
	if b.RolloverWait != "" {
		d, err := schema.ParseDuration(b.RolloverWait)
		if err != nil {
			diags = append(diags, schema.ErrAt(b.WaitRange, "Invalid duration", err.Error()))
		}
		b.Wait = d
	}
	if b.PublishNext && (b.Params[0] == 0 || b.Params[0] == 2 || b.Params[1] != 1) {
		diags = append(diags, schema.ErrAt(b.PublishNextRange, "publish_next needs an end-entity key record",
			"publish_next keeps the record of a staged next key published (RFC 7671 §8.1). That works for usage 1 or 3 with selector 1 (the key itself): a certificate for the next key does not exist yet, and usage 0 and 2 pin the CA, not a key of this certificate."))
	}

	zone := zoneOf(c, b.Zone)
	origin := mdns.Fqdn(strings.ToLower(zone.Zone))
	switch {
	case b.Owner != "" && (b.Port != nil || b.Hostname != ""):
		diags = append(diags, schema.ErrAt(b.OwnerRange, "Conflicting TLSA owner", "Set either name, or port, protocol and hostname, not both."))
		return diags
	case b.Owner != "":
		b.FQDN = strings.ToLower(b.Owner)
		if !strings.HasSuffix(b.FQDN, ".") {
			b.FQDN += "." + origin
		}
	case b.Port != nil && b.Hostname != "":
		if *b.Port < 1 || *b.Port > 65535 {
			diags = append(diags, schema.ErrAt(b.PortRange, "Port out of range", fmt.Sprintf("port must be 1 to 65535; got %d.", *b.Port)))
		}
		if b.Protocol == "" {
			b.Protocol = "tcp"
		}
		if !slices.Contains([]string{"tcp", "udp", "sctp"}, b.Protocol) {
			diags = append(diags, schema.ErrAt(b.DeclRange, "Invalid protocol", fmt.Sprintf("protocol must be tcp, udp or sctp; got %q.", b.Protocol)))
		}
		b.FQDN = "_" + strconv.Itoa(*b.Port) + "._" + b.Protocol + "." + mdns.Fqdn(strings.ToLower(b.Hostname))
	default:
		diags = append(diags, schema.ErrAt(b.DeclRange, "Missing TLSA owner", "Set name (e.g. \"_443._tcp.www\"), or port, protocol and hostname."))
		return diags
	}
	if schema.CheckHostname(b.OwnerRange, "name", b.FQDN, false, true) != nil {
		rng := b.OwnerRange
		if b.Hostname != "" {
			rng = b.HostnameRange
		}
		diags = append(diags, schema.ErrAt(rng, "Invalid TLSA owner", fmt.Sprintf("%q is not a domain name.", b.FQDN)))
	} else if !mdns.IsSubDomain(origin, b.FQDN) {
		rng := b.OwnerRange
		if b.Hostname != "" {
			rng = b.HostnameRange
		}
		diags = append(diags, schema.ErrAt(rng, "TLSA owner outside its zone", fmt.Sprintf("%s is not inside zone %s (%s).", b.FQDN, origin, b.Zone.Address)))
	}
	return diags
}

// validatePublishNext: a certificate keeps a next key for all of its
// end-entity TLSA RRsets or for none; otherwise a rollover would still wait
// for the RRsets that do not publish it.
func validatePublishNext(c *schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	first := map[schema.Address]*TLSABlock{}
	for _, b := range tlsas(c) {
		if (b.Params[0] != 1 && b.Params[0] != 3) || b.Params[1] != 1 {
			continue // no next key record exists for these: see publish_next's own check
		}
		f, ok := first[b.Certificate.Address]
		if !ok {
			first[b.Certificate.Address] = b
			continue
		}
		if f.PublishNext != b.PublishNext {
			rng := b.DeclRange
			if b.PublishNext {
				rng = b.PublishNextRange
			}
			diags = append(diags, schema.ErrAt(rng, "publish_next differs between the RRsets of one certificate",
				fmt.Sprintf("tlsa.%s sets publish_next = %t and tlsa.%s (%s) sets %t; both pin %s. Set it on every end-entity TLSA RRset of the certificate or on none: a rollover waits for any RRset that does not publish the next key.",
					b.Name, b.PublishNext, f.Name, f.DeclRange, f.PublishNext, b.Certificate.Address)))
		}
	}
	return diags
}

// validateTLSAOwners: tlsa blocks may share an owner name (3 1 1 and 2 1 1
// for one service), each managing its own usage, selector and matching type;
// two for the same combination would overwrite each other, and one RRset has
// one TTL (RFC 2181 §5.2).
func validateTLSAOwners(c *schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	first := map[string]*TLSABlock{}
	for _, b := range tlsas(c) {
		if b.FQDN == "" {
			continue // its owner already has a diagnostic
		}
		f, ok := first[b.FQDN]
		if !ok {
			first[b.FQDN] = b
			continue
		}
		switch {
		case f.Params == b.Params:
			diags = append(diags, schema.ErrAt(b.DeclRange, "Two tlsa blocks for the same records",
				fmt.Sprintf("tlsa.%s and tlsa.%s (%s) both manage the %d %d %d records at %s. Blocks may share an owner only with different usage, selector or matching type.",
					b.Name, f.Name, f.DeclRange, b.Params[0], b.Params[1], b.Params[2], strings.TrimSuffix(b.FQDN, "."))))
		case f.TTLSeconds != b.TTLSeconds:
			rng := b.DeclRange
			if b.TTL != nil {
				rng = b.TTLRange
			}
			diags = append(diags, schema.ErrAt(rng, "Different TTLs in one RRset",
				fmt.Sprintf("tlsa.%s has ttl %d, tlsa.%s (%s) ttl %d, at the same owner %s: the records form one RRset, which has one TTL.",
					b.Name, b.TTLSeconds, f.Name, f.DeclRange, f.TTLSeconds, strings.TrimSuffix(b.FQDN, "."))))
		}
	}
	return diags
}

// mailWarnings are RFC 7672's (DANE for SMTP) warnings about TLSA RRsets
// at an SMTP owner (_25._tcp.HOST): the configuration works, but sending
// MTAs will not use it as meant.
func mailWarnings(c *schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, b := range tlsas(c) {
		if !strings.HasPrefix(b.FQDN, "_25._tcp.") {
			continue
		}
		if u := b.Params[0]; u == 0 || u == 1 {
			rng := b.UsageRange
			if b.Usage == nil {
				rng = b.DeclRange
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Subject: rng.Ptr(),
				Summary: fmt.Sprintf("tlsa.%s: usage %d at an SMTP owner", b.Name, u),
				Detail:  fmt.Sprintf("Sending MTAs treat PKIX-TA (0) and PKIX-EE (1) records as unusable (RFC 7672 §3.1.3): between mail servers there is no common set of trusted CAs. At %s publish DANE-EE (usage = 3, with selector = 1: 3 1 1) or DANE-TA (usage = 2).", b.FQDN)})
		}
		if z := zoneOf(c, b.Zone); z != nil && !z.RequireDNSSEC {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Subject: b.DeclRange.Ptr(),
				Summary: fmt.Sprintf("tlsa.%s: DANE for SMTP in a zone not required to be signed", b.Name),
				Detail:  fmt.Sprintf("Sending MTAs use TLSA records only when DNSSEC validates them (RFC 7672 §2.2); unsigned, %s is ignored and mail goes with opportunistic TLS. Sign zone %s and set require_dnssec = true on dns_zone.%s, so that every plan checks the signatures.", b.FQDN, z.Zone, z.Name)})
		}
	}
	return diags
}

// apiTypes are the DNS hosts' APIs a zone may sit behind.
func apiTypes() []string { return []string{"powerdns", "desec", "cloudflare"} }

// validateAPI checks an api block: a known type, its URL (https, or http
// to this machine only: the token travels in every request).
func validateAPI(c *schema.Config, z *ZoneBlock) hcl.Diagnostics {
	a := z.API
	var diags hcl.Diagnostics
	if !slices.Contains(apiTypes(), a.Type) {
		diags = append(diags, schema.ErrAt(a.TypeRange, "Unknown DNS API", fmt.Sprintf("type %q is not one of %s.", a.Type, strings.Join(apiTypes(), ", "))))
	}
	u, err := url.Parse(a.URL)
	switch {
	case a.URL == "" && (a.Type == "desec" || a.Type == "cloudflare"): // the host's own
	case a.URL == "":
		diags = append(diags, schema.ErrAt(a.DeclRange, "Missing API URL", "The powerdns API needs url, the API's base such as \"http://127.0.0.1:8081\"."))
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		diags = append(diags, schema.ErrAt(a.URLRange, "Invalid API URL", fmt.Sprintf("url must be http(s)://HOST[:PORT][/PATH], with no credentials, query or fragment; got %q.", a.URL)))
	case u.Scheme == "http" && !loopback(u.Hostname()):
		diags = append(diags, schema.ErrAt(a.URLRange, "API token over plain HTTP", fmt.Sprintf("%s is not this machine: the API token would cross the network in clear. Use https.", u.Host)))
	}
	diags = schema.Append(diags, c.CheckPath(a.TokenFileRange, "token_file", a.TokenFile))
	if a.ZoneID != "" && !serverIDGrammar.MatchString(a.ZoneID) {
		diags = append(diags, schema.ErrAt(a.DeclRange, "Invalid zone_id", fmt.Sprintf("zone_id is the zone's id, letters and digits; got %q.", a.ZoneID)))
	}
	if a.ServerID != "" && !serverIDGrammar.MatchString(a.ServerID) {
		diags = append(diags, schema.ErrAt(a.DeclRange, "Invalid server_id", fmt.Sprintf("server_id is a word such as \"localhost\"; got %q.", a.ServerID)))
	}
	return diags
}

var serverIDGrammar = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// loopback reports whether host names this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
