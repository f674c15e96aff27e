package webserver_test

import (
	"testing"

	"github.com/trustform/trustform/providers/webserver"
)

func TestParseListen(t *testing.T) {
	for in, want := range map[string]string{
		"443": "*:443", "*:443": "*:443", "0.0.0.0:80": "*:80",
		"192.0.2.10:443": "192.0.2.10:443", "[::1]:8443": "[::1]:8443",
		"example.test:443": "", "99999": "",
	} {
		got, err := webserver.ParseListen(in)
		if (err != nil) != (want == "") || got != want {
			t.Errorf("ParseListen(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
