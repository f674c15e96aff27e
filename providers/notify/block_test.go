package notify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustform/trustform/schema"
)

// The block's values are checked: known events, a positive repeat_after,
// one target, an http(s) URL with no credentials in it, addresses that
// are addresses, username and password_file together.
func TestBlock(t *testing.T) {
	hook := "webhook {\n    url = \"https://hooks.example.test/x\"\n  }"
	for _, tc := range []struct{ name, body, want string }{
		{"a webhook", `on = ["drift"]` + "\n  " + hook, ""},
		{"an unknown event", `on = ["expiry"]` + "\n  " + hook, "Unknown event"},
		{"no event", `on = []` + "\n  " + hook, "No events"},
		{"repeat_after", `on = ["drift"]` + "\n  repeat_after = \"0s\"\n  " + hook, "Invalid repeat_after"},
		{"no target", `on = ["drift"]`, "One target"},
		{"a token in the URL", `on = ["drift"]` + "\n  webhook {\n    url = \"https://user:tok@hooks.example.test/\"\n  }", "Invalid webhook url"},
		{"e-mail", `on = ["drift"]` + "\n  email {\n    smtp = \"smtp.example.test:587\"\n    from = \"t@example.test\"\n    to = [\"ops@example.test\"]\n  }", ""},
		{"a header in from", `on = ["drift"]` + "\n  email {\n    smtp = \"smtp.example.test:587\"\n    from = \"t@example.test\\r\\nBcc: x@evil.test\"\n    to = [\"ops@example.test\"]\n  }", "Invalid from"},
		{"a password without user", `on = ["drift"]` + "\n  email {\n    smtp = \"smtp.example.test:587\"\n    from = \"t@example.test\"\n    to = [\"ops@example.test\"]\n    password_file = \"pw\"\n  }", "username and password_file go together"},
		{"smtp without port", `on = ["drift"]` + "\n  email {\n    smtp = \"smtp.example.test\"\n    from = \"t@example.test\"\n    to = [\"ops@example.test\"]\n  }", "Invalid smtp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "main.hcl"), []byte("notify \"ops\" {\n  "+tc.body+"\n}\n"), 0o644)
			_, diags := schema.Load(dir, schema.Inputs{}, []schema.Kind{Kind().Kind})
			switch {
			case tc.want == "" && diags.HasErrors():
				t.Errorf("refused: %v", diags)
			case tc.want != "" && !strings.Contains(diags.Error(), tc.want):
				t.Errorf("diagnostics %v, want %q", diags, tc.want)
			}
		})
	}
}
