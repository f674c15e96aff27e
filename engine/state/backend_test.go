package state

import (
	"strings"
	"testing"

	"github.com/trustform/trustform/schema"
)

// TestStoreOf: where state is kept, from the configuration's state block
// and the runner's pin; a pull request cannot move it to its own server.
func TestStoreOf(t *testing.T) {
	const runner, other = "postgres://runner@db/trustform", "postgres://attacker@evil/x"
	for _, tc := range []struct {
		name     string
		block    *schema.State
		pin      Pin
		readOnly bool
		want     string // the store, or the error's text
	}{
		{name: "no block, no pin", want: "dir .tf"},
		{name: "no block, read-only", readOnly: true, want: "dir .tf read-only"},
		{name: "the block's server", block: &schema.State{ConnStr: other, Schema: "s"}, want: "postgres " + other + " s "},
		{name: "a block without conn_str and no pin", block: &schema.State{}, want: "has no conn_str"},
		{name: "the pin alone", pin: Pin{ConnStr: runner}, want: "postgres " + runner + "  "},
		{name: "the pin with the block's schema and name", block: &schema.State{Schema: "s", Name: "n"}, pin: Pin{ConnStr: runner}, want: "postgres " + runner + " s n"},
		{name: "the pin's schema wins", block: &schema.State{Schema: "s"}, pin: Pin{ConnStr: runner, Schema: "p"}, want: "postgres " + runner + " p "},
		{name: "the same server in both", block: &schema.State{ConnStr: runner}, pin: Pin{ConnStr: runner}, want: "postgres " + runner + "  "},
		{name: "another server than the pinned one", block: &schema.State{ConnStr: other}, pin: Pin{ConnStr: runner}, want: "another PostgreSQL server than the one this runner pins"},
		{name: "schema without conn_str", pin: Pin{Schema: "s"}, want: "no conn_str pins"},
		{name: "postgres read-only", pin: Pin{ConnStr: runner}, readOnly: true, want: "postgres " + runner + "   read-only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := StoreOf(tc.block, ".tf", tc.pin, tc.readOnly)
			var got string
			switch s := s.(type) {
			case *DirStore:
				got = "dir " + s.Dir
				if s.ReadOnly {
					got += " read-only"
				}
			case *PostgresStore:
				got = "postgres " + s.ConnStr + " " + s.Schema + " " + s.Name
				if s.ReadOnly {
					got += " read-only"
				}
			}
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tc.want) || (err == nil && got != tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestParsePin: TRUSTFORM_PG_CONN_STR, then -backend-config, the later
// winning; anything else is refused.
func TestParsePin(t *testing.T) {
	p, err := ParsePin("env", []string{"schema=s", "conn_str=flag", "name=n", "conn_str=last"})
	if err != nil || p != (Pin{ConnStr: "last", Schema: "s", Name: "n"}) {
		t.Errorf("ParsePin = %+v, %v", p, err)
	}
	for _, bad := range []string{"conn_str", "password=x"} {
		if _, err := ParsePin("", []string{bad}); err == nil {
			t.Errorf("-backend-config=%s is accepted", bad)
		}
	}
}
