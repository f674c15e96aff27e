// Package labutil holds what the server test labs share: finding a binary
// (skipping, or failing under CI=true, when it is missing), free loopback
// ports, world-readable temp directories for servers whose workers drop
// privileges, and starting a server so that its whole process group stops
// with the test.
package labutil

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Binary finds name; without it the test is skipped, or fails when CI=true.
func Binary(t testing.TB, name string, paths ...string) string {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed; scripts/test.sh installs it", name)
	}
	t.Skipf("%s is not installed; run scripts/test.sh", name)
	return ""
}

// FreePort reserves a loopback port free for both TCP and UDP until the
// test ends. A server often binds its port long after the lab chose it (nginx
// binds a vhost's port at the reload that adds it), so a port from bind(0)
// could meanwhile go to another test's listener or outgoing connection: the
// ports come from below the kernel's ephemeral range instead, each held by a
// lock file that every test process of the suite respects.
func FreePort(t testing.TB) int {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "trustform-test-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	lo, hi := 10000, ephemeralLow()
	start := lo + int(time.Now().UnixNano()%int64(hi-lo))
	for i := range hi - lo {
		port := lo + (start-lo+i)%(hi-lo)
		f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(port)), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil || !bindable(port) {
			f.Close()
			continue
		}
		t.Cleanup(func() { f.Close() })
		return port
	}
	t.Fatal("no free loopback port")
	return 0
}

// ephemeralLow is where the kernel's ephemeral ports begin.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if f := strings.Fields(string(b)); err == nil && len(f) == 2 {
		if n, err := strconv.Atoi(f[0]); err == nil && n > 11000 {
			return n
		}
	}
	return 32768
}

func bindable(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	defer l.Close()
	u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	u.Close()
	return true
}

// OpenDir is a temp directory that a server's unprivileged workers can read.
func OpenDir(t testing.TB, pattern string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// Proc is a lab server started in a process group of its own, so that
// stopping it stops its children too (nginx workers, apache2 children).
type Proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts cmd in a new process group. Its whole group is stopped when
// the test ends, and the test fails when a process of the group survives.
// Should the test process itself be killed (no cleanup runs then), the
// kernel kills the server with it (PR_SET_PDEATHSIG): a lab never outlives
// its test.
func Start(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	p := &Proc{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// Pid is the group leader's process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Stop kills every process of the group (SIGKILL: a lab keeps nothing worth
// a clean shutdown) and waits until none is left. Stopping twice is harmless.
func (p *Proc) Stop() error {
	pgid := p.cmd.Process.Pid
	// Children that left the group (sshd's per-connection processes call
	// setsid) are found by their parents and go too.
	for _, pid := range Descendants(pgid) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	syscall.Kill(-pgid, syscall.SIGCONT) // a stopped process (a test's SIGSTOP) must run to die
	syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if len(Group(pgid)) == 0 {
			return nil
		}
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
	return fmt.Errorf("%s (process group %d) still has processes %v 5s after it was killed", p.cmd.Path, pgid, Group(pgid))
}

// Descendants lists the live processes descended from pid, as /proc shows
// them.
func Descendants(pid int) []int {
	parent := map[int]int{}
	for _, st := range procStats() {
		parent[st.pid] = st.ppid
	}
	var out []int
	for p := range parent {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

type procStat struct {
	pid, ppid, pgrp int
	state           string
}

// procStats reads pid, state, ppid and process group of every process.
func procStats() []procStat {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []procStat
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 3 {
			continue
		}
		pid, _ := strconv.Atoi(strings.Fields(string(b))[0])
		ppid, _ := strconv.Atoi(f[1])
		pgrp, _ := strconv.Atoi(f[2])
		out = append(out, procStat{pid, ppid, pgrp, f[0]})
	}
	return out
}

// Group lists the live processes (zombies aside) of process group pgid, as
// /proc shows them.
func Group(pgid int) []int {
	var out []int
	for _, st := range procStats() {
		if st.pgrp == pgid && st.state != "Z" && st.state != "X" {
			out = append(out, st.pid)
		}
	}
	return out
}
