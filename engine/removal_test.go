package engine_test

import (
	"strings"
	"testing"
)

// TestRemoval: a block removed from the configuration plans the deletion
// of what it managed, ordered against what it refers to, each with a
// warning; a removed block with destroy = false forgets instead.
func TestRemoval(t *testing.T) {
	ec256 := strings.ReplaceAll(base, "KEYTYPE", "ec256")
	tlsa := ec256[strings.Index(ec256, `tlsa "www"`):]
	withoutTLSA := strings.Replace(ec256, tlsa, "", 1)
	certAndTLSA := ec256[strings.Index(ec256, `certificate "www"`):]
	onlyZoneAndCA := strings.Replace(ec256, certAndTLSA, "", 1)
	httpVhost := vhosts[strings.Index(vhosts, `vhost "http"`):]
	for _, tc := range []ruleCase{
		{name: "tlsa", first: ec256, config: withoutTLSA},
		{name: "tlsa-forgotten", first: ec256, config: withoutTLSA + "\nremoved {\n  from    = tlsa.www\n  destroy = false\n}\n"},
		{name: "certificate-and-tlsa", first: ec256, config: onlyZoneAndCA},
		{name: "vhost", first: ec256 + vhosts, config: ec256 + strings.Replace(vhosts, httpVhost, "", 1) + strings.Replace(httpVhost, "  hsts_from      = vhost.https\n", "", 1)[:0]},
		{name: "apt-source-and-key", first: ec256 + aptPair, config: ec256},
	} {
		t.Run(tc.name, func(t *testing.T) { runCase(t, tc, "removal") })
	}
}
