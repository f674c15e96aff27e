package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/trustform/trustform/internal/host/sshtest"
	"github.com/trustform/trustform/internal/labutil"
	"github.com/trustform/trustform/internal/testutil"
)

// BenchmarkSSHFleet30 is the plan after apply of 30 hosts × 2 certificates,
// each host a real sshd on loopback: trustform's plan (a build without
// -race; the peak RSS per host is reported), against a shell loop of
// `ssh host cat FILE` over the same four files per host, the two
// interleaved (medians and their ratio), and Ansible's stat module over the
// same hosts and files with its default forks (5).
// bench/ssh-fleet.sh installs ansible-core and runs this.
func BenchmarkSSHFleet30(b *testing.B) {
	const hosts = 30
	bin := filepath.Join(b.TempDir(), "trustform")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	dir := b.TempDir()
	var cfg, inventory strings.Builder
	cfg.WriteString("local_ca \"ca\" {}\n")
	inventory.WriteString("[fleet]\n")
	type file struct {
		lab  *sshtest.Lab
		path string
	}
	var files []file
	for i := range hosts {
		lab := sshtest.Start(b)
		root := labutil.OpenDir(b, "fleethost")
		fmt.Fprintf(&cfg, `
host "h%[1]d" {
  address = "127.0.0.1"
  root    = %[2]q
  ssh {
    port          = %[3]d
    identity_file = %[4]q
    known_hosts   = %[5]q
  }
}
`, i, root, lab.Port, lab.IdentityFile, lab.KnownHosts)
		for _, c := range []string{"www", "mail"} {
			fmt.Fprintf(&cfg, `
certificate "h%[1]d_%[2]s" {
  domains   = ["%[2]s.h%[1]d.example.test"]
  issuer    = local_ca.ca
  cert_file = "/etc/ssl/%[2]s.pem"
  key_file  = "/etc/ssl/private/%[2]s.key"
  host      = host.h%[1]d
}
`, i, c)
			files = append(files, file{lab, filepath.Join(root, "etc/ssl", c+".pem")}, file{lab, filepath.Join(root, "etc/ssl/private", c+".key")})
		}
		fmt.Fprintf(&inventory, "h%d ansible_host=127.0.0.1 ansible_port=%d ansible_user=%s ansible_ssh_private_key_file=%s ansible_ssh_common_args='-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes' root=%s\n",
			i, lab.Port, lab.User, lab.IdentityFile, lab.KnownHosts, root)
	}
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg.String()), 0o644)
	run := func(args ...string) *os.ProcessState {
		cmd := exec.Command(bin, append([]string{"-chdir=" + dir}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("trustform %v: %v\n%s", args, err, out)
		}
		return cmd.ProcessState
	}
	run("apply", "-auto-approve")

	var rss int64
	plan := func(b *testing.B) {
		st := run("plan", "-detailed-exitcode")
		rss = max(rss, st.SysUsage().(*syscall.Rusage).Maxrss)
	}
	cat := func(b *testing.B) {
		for _, f := range files {
			cmd := exec.Command("ssh", "-F", "/dev/null", "-p", fmt.Sprint(f.lab.Port), "-i", f.lab.IdentityFile,
				"-o", "UserKnownHostsFile="+f.lab.KnownHosts, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
				f.lab.User+"@127.0.0.1", "cat", f.path)
			if out, err := cmd.Output(); err != nil || len(out) == 0 {
				b.Fatalf("ssh cat %s: %v", f.path, err)
			}
		}
	}
	b.Run("interleaved", func(b *testing.B) {
		testutil.Interleaved(b, testutil.Measured{Name: "plan", Run: plan}, testutil.Measured{Name: "ssh-cat", Run: cat})
		b.ReportMetric(float64(rss)/hosts, "KiB-RSS/host")
	})
	b.Run("ansible-stat", func(b *testing.B) {
		playbook, err := exec.LookPath("ansible-playbook")
		if err != nil {
			b.Skip("ansible-playbook is not installed: bench/ssh-fleet.sh installs Debian's ansible-core")
		}
		inv := filepath.Join(dir, "inventory.ini")
		os.WriteFile(inv, []byte(inventory.String()), 0o644)
		play := filepath.Join(dir, "stat.yml")
		os.WriteFile(play, []byte(`- hosts: fleet
  gather_facts: false
  tasks:
    - stat:
        path: "{{ root }}/{{ item }}"
      loop: [etc/ssl/www.pem, etc/ssl/private/www.key, etc/ssl/mail.pem, etc/ssl/private/mail.key]
`), 0o644)
		for b.Loop() {
			cmd := exec.Command(playbook, "-i", inv, play)
			cmd.Env = append(os.Environ(), "ANSIBLE_HOST_KEY_CHECKING=True", "ANSIBLE_PYTHON_INTERPRETER=auto_silent", "ANSIBLE_NOCOLOR=1")
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("ansible-playbook: %v\n%s", err, out)
			}
		}
	})
}
