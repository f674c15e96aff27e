package sshtest

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// The real ssh client logs in with the lab's key and known_hosts, strictly.
func TestLabAcceptsItsKey(t *testing.T) {
	lab := Start(t)
	out, err := exec.Command("ssh", "-F", "/dev/null", "-p", strconv.Itoa(lab.Port), "-i", lab.IdentityFile,
		"-o", "UserKnownHostsFile="+lab.KnownHosts, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
		lab.User+"@127.0.0.1", "echo", "hello").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "hello" {
		t.Fatalf("ssh: %v\n%s", err, out)
	}
}
