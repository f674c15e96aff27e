package dns

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/internal/host"
)

// ZoneFile is a zone kept in a BIND-format master file: the embedded default.
//
// Writing re-serialises the zone from parsed records, as BIND does for
// dynamic zones: records trustform does not manage keep their data, but
// comments and layout are not preserved. $INCLUDE (DNSSEC keys) and
// $GENERATE lines are kept, at the end, with the $ORIGIN and $TTL they stood
// under; what they include or generate is not read, so records there are
// not seen.
type ZoneFile struct {
	Host          host.Host // where the zone file is and the reload runs
	Origin        string    // fully qualified
	Path          string
	ReloadCommand string // run after each write, e.g. "rndc reload example.org"
	// Nameservers (host:port) serve the zone; a rollover's wait counts from
	// when all of them serve the new records. None: from the file's write.
	Nameservers []string
	Now         func() time.Time

	mu       sync.Mutex
	rrs      []mdns.RR // parsed on first use, so thousands of RRsets cost one parse
	includes []string  // $INCLUDE and $GENERATE lines, written back as they were
	parsed   bool
	mx       []string               // the apex MX targets of rrs, once asked; nil when rrs changed
	rrsets   map[rrsetKey][]mdns.RR // rrs by owner and type, once asked; nil when rrs changed
	txt      txtEditor              // dns-01 challenge values (challenge.go)
}

var _ Zone = (*ZoneFile)(nil)

func (z *ZoneFile) load() error {
	if z.parsed {
		return nil
	}
	b, err := z.Host.ReadFile(z.Path)
	if err != nil {
		return fmt.Errorf("zone %s: %w", z.Origin, err)
	}
	if b == nil {
		return fmt.Errorf("zone %s: the zone file %s does not exist", z.Origin, z.Path)
	}
	rrs, includes, err := ReadZone(b, z.Origin, z.Path)
	if err != nil {
		return err
	}
	z.rrs, z.includes, z.parsed, z.mx, z.rrsets = rrs, includes, true, nil, nil
	return nil
}

// ReadZone reads a master file: its records, parsed with miekg/dns's zone
// parser, and its $INCLUDE and $GENERATE directives, kept as they are.
func ReadZone(b []byte, origin, name string) ([]mdns.RR, []string, error) {
	rest, kept := keptDirectives(b, origin)
	rrs, err := ParseZone(rest, origin, name)
	return rrs, kept, err
}

// ParseZone parses the records of a master file with miekg/dns's zone
// parser (which expands a $GENERATE and refuses an $INCLUDE).
func ParseZone(b []byte, origin, name string) ([]mdns.RR, error) {
	zp := mdns.NewZoneParser(bytes.NewReader(b), origin, name)
	var rrs []mdns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("%s", parseToken.ReplaceAllString(err.Error(), " at line $1 (the text there is not shown: the file may not be a zone file)"))
	}
	return rrs, nil
}

// parseToken is the token miekg/dns quotes in a parse error. A zone_file
// pointed at another file (a password file, a key) would have the error
// print its content, so the token is dropped and the position kept.
var parseToken = regexp.MustCompile(`: "(?:[^"\\]|\\.)*" at line: (\d+:\d+)$`)

// RRset returns the records of type t at owner.
func (z *ZoneFile) RRset(_ context.Context, owner string, t uint16) ([]mdns.RR, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if err := z.load(); err != nil {
		return nil, err
	}
	if z.rrsets == nil { // a plan asks for thousands of RRsets: one pass per version of the file
		z.rrsets = map[rrsetKey][]mdns.RR{}
		for _, rr := range z.rrs {
			k := rrsetKey{strings.ToLower(rr.Header().Name), rr.Header().Rrtype}
			z.rrsets[k] = append(z.rrsets[k], rr)
		}
	}
	return slices.Clone(z.rrsets[rrsetKey{strings.ToLower(owner), t}]), nil
}

// rrsetKey names an RRset: its owner in lower case and its type.
type rrsetKey struct {
	owner string
	t     uint16
}

// MX lists the targets of the apex MX RRset in the file.
func (z *ZoneFile) MX(context.Context) ([]string, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if err := z.load(); err != nil {
		return nil, err
	}
	if z.mx == nil { // every SMTP RRset asks: found once per version of the file
		z.mx = mxTargets(z.rrs, z.Origin)
	}
	return z.mx, nil
}

// Hosts lists the owners of A and AAAA records in the file.
func (z *ZoneFile) Hosts(context.Context) ([]string, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if err := z.load(); err != nil {
		return nil, err
	}
	return addressOwners(z.rrs), nil
}

// Records are the records of the file.
func (z *ZoneFile) Records(context.Context) ([]string, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if err := z.load(); err != nil {
		return nil, err
	}
	return presentation(z.rrs), nil
}

// Update replaces the given RRsets, bumps the SOA serial, writes the file
// atomically and runs the reload command. If the reload fails, the previous
// file is put back and the error says what the command printed.
func (z *ZoneFile) Update(ctx context.Context, sets []RRset) error {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.parsed = false // always start from the file as it is now
	if err := z.load(); err != nil {
		return err
	}
	want := map[string]RRset{}
	for _, s := range sets {
		want[key(s.Owner, s.Type)] = s
	}
	var out []mdns.RR
	placed := map[string]bool{}
	place := func(k string) error {
		if placed[k] {
			return nil
		}
		placed[k] = true
		rrs, err := want[k].toRRs()
		out = append(out, rrs...)
		return err
	}
	sawSOA := false
	for _, rr := range z.rrs {
		if soa, ok := rr.(*mdns.SOA); ok {
			soa = mdns.Copy(soa).(*mdns.SOA)
			soa.Serial = NextSerial(soa.Serial, z.Now())
			out = append(out, soa)
			sawSOA = true
			continue
		}
		if k := key(rr.Header().Name, rr.Header().Rrtype); want[k].Owner != "" {
			if err := place(k); err != nil {
				return err
			}
			continue
		}
		out = append(out, rr)
	}
	if !sawSOA {
		return fmt.Errorf("zone %s: %s has no SOA record", z.Origin, z.Path)
	}
	for _, s := range sets { // RRsets that are new go at the end, in plan order
		if err := place(key(s.Owner, s.Type)); err != nil {
			return err
		}
	}

	var buf bytes.Buffer
	fmt.Fprintf(&buf, "; zone %s, written by trustform; records it does not manage are kept as they were.\n$ORIGIN %s\n", z.Origin, z.Origin)
	for _, rr := range out {
		buf.WriteString(rr.String())
		buf.WriteByte('\n')
	}
	for _, inc := range z.includes {
		buf.WriteString(inc + "\n")
	}
	snap, err := host.Take(z.Host, z.Path)
	if err != nil {
		return err
	}
	mode := fs.FileMode(0o644)
	if st, err := z.Host.Stat(z.Path); err == nil && st != nil {
		mode = st.Mode().Perm()
	}
	if err := z.Host.WriteFile(z.Path, buf.Bytes(), mode); err != nil {
		return err
	}
	z.rrs, z.mx, z.rrsets = out, nil, nil
	if z.ReloadCommand == "" {
		return nil
	}
	if msg, err := z.Host.Run(ctx, z.ReloadCommand); err != nil {
		z.parsed = false
		if rerr := snap.Restore(); rerr != nil {
			return fmt.Errorf("zone %s: reload command %q failed (%v: %s), and restoring the zone file failed too: %v", z.Origin, z.ReloadCommand, err, bytes.TrimSpace(msg), rerr)
		}
		return fmt.Errorf("zone %s: reload command %q failed, zone file restored: %v: %s", z.Origin, z.ReloadCommand, err, bytes.TrimSpace(msg))
	}
	return nil
}

// NextSerial returns the SOA serial after s. Date-style serials
// (YYYYMMDDnn) move to today's date when that is larger; all others count
// up by one, with RFC 1982 wrap-around.
func NextSerial(s uint32, now time.Time) uint32 {
	if s >= 1970010100 && s <= 2999123199 {
		today, _ := strconv.ParseUint(now.UTC().Format("20060102")+"00", 10, 32)
		if uint32(today) > s {
			return uint32(today)
		}
	}
	return s + 1
}
