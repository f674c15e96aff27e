package dns_test

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/providers/dns/pdnstest"
)

// BenchmarkPowerDNS2000 measures issue 33's anchor: 2,000 TLSA RRsets
// created, then rolled over (each gets a second record), then pruned,
// through PowerDNS's API (real PowerDNS), against a shell loop of one curl
// PATCH per RRset on the same server, measured in the same run. It reports
// the HTTP requests of each phase (goal: one per zone per phase, plus the
// GET that checks nothing changed) and the ratio of trustform's time to
// the loop's (goal: ≤ 0.05).
//
//	go test ./providers/dns -run '^$' -bench PowerDNS2000 -benchtime 1x
func BenchmarkPowerDNS2000(b *testing.B) {
	const n = 2000
	lab := pdnstest.Start(b, "example.test")
	api, requests := counted(b, lab)
	ctx := context.Background()
	owner := func(i int) string { return fmt.Sprintf("_443._tcp.h%d.example.test.", i) }
	rec := func(i, gen int) string { return fmt.Sprintf("3 1 1 %064x", i*10+gen) }
	phase := func(records func(i int) []string) (time.Duration, int32) {
		z2 := pdnsZone(lab, api)
		var sets []dns.RRset
		for i := range n {
			if _, err := z2.RRset(ctx, owner(i), mdns.TypeTLSA); err != nil {
				b.Fatal(err)
			}
			sets = append(sets, dns.RRset{Owner: owner(i), Type: mdns.TypeTLSA, TTL: 300, Records: records(i)})
		}
		requests.Store(0)
		start := time.Now()
		if err := z2.Update(ctx, sets); err != nil {
			b.Fatal(err)
		}
		return time.Since(start), requests.Load()
	}
	var ours time.Duration
	var perPhase []int32
	for range b.N {
		for _, records := range []func(int) []string{
			func(i int) []string { return []string{rec(i, 1)} },            // create
			func(i int) []string { return []string{rec(i, 1), rec(i, 2)} }, // publish the next key
			func(i int) []string { return []string{rec(i, 2)} },            // prune the old one
			func(i int) []string { return nil },                            // delete
		} {
			d, r := phase(records)
			ours += d
			perPhase = append(perPhase, r)
		}
	}
	b.StopTimer()
	// The anchor: one curl PATCH per RRset, the way a shell script would
	// publish them, for the create phase.
	start := time.Now()
	for i := range n {
		body := fmt.Sprintf(`{"rrsets":[{"name":%q,"type":"TLSA","ttl":300,"changetype":"REPLACE","records":[{"content":%q,"disabled":false}]}]}`, owner(i), rec(i, 1))
		out, err := exec.Command("curl", "-sS", "-f", "-X", "PATCH", "-H", "X-API-Key: "+lab.Key, "-H", "Content-Type: application/json",
			"--data", body, lab.API+"/api/v1/servers/localhost/zones/"+lab.Zone).CombinedOutput()
		if err != nil {
			b.Fatalf("curl: %v\n%s", err, out)
		}
	}
	loop := time.Since(start)
	phases := float64(4 * b.N)
	b.ReportMetric(float64(ours.Milliseconds())/phases, "ms/phase")
	b.ReportMetric(float64(loop.Milliseconds()), "ms-curl-loop")
	b.ReportMetric(float64(ours)/phases/float64(loop), "x-loop")
	var total int32
	for _, r := range perPhase {
		total += r
	}
	b.ReportMetric(float64(total)/phases, "requests/phase")
	b.Logf("requests per phase %v; ours %s per phase, the curl loop %s", perPhase, ours/time.Duration(phases), loop)
}
