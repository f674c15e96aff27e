package providers

import (
	"strings"
	"time"
)

// Sample is one value of a metric (plan and apply -metrics-file): its name
// as docs/metrics.md lists it, its labels other than address, which the
// engine adds, and its value. Label values are bounded: addresses,
// endpoints, servers, zones; never serials, digests or free text.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Measured resources turn what they observed, and what their plan wants,
// into metrics. Plan has run; nothing is asked of any server again.
type Measured interface {
	Resource
	Measure(observed, desired Value) []Sample
}

// Metric names of the samples resources give (docs/metrics.md).
const (
	MetricCertificateNotAfter  = "trustform_certificate_not_after_timestamp_seconds"
	MetricRenewalWindowStart   = "trustform_certificate_renewal_window_start_timestamp_seconds"
	MetricServedNotAfter       = "trustform_served_certificate_not_after_timestamp_seconds"
	MetricServedDeployed       = "trustform_served_certificate_deployed"
	MetricTLSAMatch            = "trustform_tlsa_match"
	MetricSignaturesExpire     = "trustform_dnssec_signatures_expire_timestamp_seconds"
	MetricMTASTSServed         = "trustform_mta_sts_policy_served"
	MetricMTASTSMXCertificates = "trustform_mta_sts_mx_certificate_valid"
)

// Timestamp is t as a metric's value: seconds since the epoch.
func Timestamp(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// Bool is b as a metric's value: 1 or 0.
func Bool(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// ServedSamples are a server's served_certificate entries ("KEY LEAF" as
// probe.Leaf names the leaf, "KEY unreachable: …" when it did not answer)
// as metrics per endpoint (endpoint(KEY)): the served leaf's expiry, and
// whether it is the deployed one, the desired entry for the same KEY.
func ServedSamples(observed, desired Value, endpoint func(key string) string) []Sample {
	want := map[string]string{}
	if d, ok := desired["served_certificate"]; ok && d.Known() {
		for _, e := range d.List {
			k, leaf, _ := strings.Cut(e, " ")
			want[k] = leaf
		}
	}
	var out []Sample
	for _, e := range observed["served_certificate"].List {
		k, leaf, _ := strings.Cut(e, " ")
		labels := map[string]string{"endpoint": endpoint(k)}
		if _, exp, ok := strings.Cut(leaf, " expires "); ok {
			if at, err := time.Parse(time.RFC3339, exp); err == nil {
				out = append(out, Sample{Name: MetricServedNotAfter, Labels: labels, Value: Timestamp(at)})
			}
		}
		out = append(out, Sample{Name: MetricServedDeployed, Labels: labels, Value: Bool(want[k] != "" && want[k] == leaf)})
	}
	return out
}

// DANECell is one cell of the status page's DANE matrix: what one
// authoritative server publishes for an RRset against what its endpoint
// serves.
type DANECell struct {
	Owner    string `json:"owner"`
	Endpoint string `json:"endpoint"`
	Server   string `json:"server"`
	OK       bool   `json:"ok"`
	Why      string `json:"why"` // why not, or what matched
}

// DANEReporter resources are TLSA RRsets that report, per authoritative
// server, whether what it publishes matches what is served. Observe has
// run.
type DANEReporter interface {
	Resource
	DANECells() []DANECell
}
