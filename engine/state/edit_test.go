package state

import (
	"strings"
	"testing"
)

// TestAccept: a push of another lineage or an older serial is refused
// unless forced; the serial written is never one the store had.
func TestAccept(t *testing.T) {
	for _, tc := range []struct {
		name           string
		stored, pushed State
		force          bool
		want           string // error, or ""
		serial         int64
	}{
		{"same lineage, newer", State{Lineage: "a", Serial: 3}, State{Lineage: "a", Serial: 5}, false, "", 5},
		{"same lineage, same serial", State{Lineage: "a", Serial: 3}, State{Lineage: "a", Serial: 3}, false, "", 3},
		{"into a new state", State{}, State{Lineage: "b", Serial: 7}, false, "", 7},
		{"another lineage", State{Lineage: "a", Serial: 3}, State{Lineage: "b", Serial: 9}, false, "another configuration's state", 0},
		{"older", State{Lineage: "a", Serial: 5}, State{Lineage: "a", Serial: 2}, false, "would go back", 0},
		{"older, forced", State{Lineage: "a", Serial: 5}, State{Lineage: "b", Serial: 2}, true, "", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.pushed
			err := tc.stored.Accept(&in, tc.force)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			case tc.want == "" && in.Serial != tc.serial:
				t.Errorf("serial %d, want %d", in.Serial, tc.serial)
			}
		})
	}
}

// TestForget: state rm forgets the resource and its pending step; an
// address not in state is an error.
func TestForget(t *testing.T) {
	s := &State{Resources: map[string]*Resource{"certificate.www": {}}, Pending: map[string]string{"certificate.www": "issue"}}
	if err := s.Forget("certificate.www"); err != nil || len(s.Resources) != 0 || len(s.Pending) != 0 {
		t.Errorf("Forget: %v, %+v", err, s)
	}
	if err := s.Forget("certificate.www"); err == nil {
		t.Error("forgetting what is not there succeeds")
	}
}
