package plan_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/trustform/trustform/engine/plan"
)

// FuzzReadJSON: a plan file from an artefact store is read without a
// panic, and what is accepted writes back and reads again the same.
func FuzzReadJSON(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "testdata", "json", "*.golden"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"hello":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := plan.ReadJSON(bytes.NewReader(b))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := plan.WriteJSON(&out, p); err != nil {
			t.Fatal(err)
		}
		if _, err := plan.ReadJSON(&out); err != nil {
			t.Fatalf("an accepted plan does not read back: %v", err)
		}
		var text, md bytes.Buffer
		plan.WriteText(&text, p, plan.TextOptions{})
		plan.WriteMarkdown(&md, p)
	})
}
