package host_test

import (
	"testing"

	"github.com/trustform/trustform/internal/host/sshtest"
	"github.com/trustform/trustform/internal/labutil"
)

// BenchmarkSSHConnect is one host's connection as a plan makes it: dial,
// key exchange, authentication, the SFTP server and the login user's uid,
// then one file read.
func BenchmarkSSHConnect(b *testing.B) {
	lab := sshtest.Start(b)
	root := labutil.OpenDir(b, "benchroot")
	for b.Loop() {
		h := sshHost(lab, root)
		if _, err := h.ReadFile(root + "/absent"); err != nil {
			b.Fatal(err)
		}
		h.UID()
		h.Close()
	}
}
