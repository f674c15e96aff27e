package host

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
)

// commands is a host's command session: one shell, started by the run's
// first command, that runs each command it is sent with sh -c and answers
// with its exit status and output. sshd starts every session through the
// login shell, which may source a heavy rc file: a run pays for that once
// per host, not once per test and reload command. Commands run one at a
// time; a command that is interrupted ends the session, and the next one
// starts another.
type commands struct {
	mu  sync.Mutex
	s   *ssh.Session
	in  io.WriteCloser
	out *bufio.Reader
}

// driver reads one command per line, base64-encoded (a command may hold
// any byte), runs it with its output in a file of its own (mktemp: 0600),
// and writes "STATUS SIZE" and the output.
const driver = `while IFS= read -r line; do
  out=$(mktemp) || exit 1
  cmd=$(printf '%s' "$line" | base64 -d) && sh -c "$cmd" >"$out" 2>&1 </dev/null
  status=$?
  printf '%s %s\n' "$status" "$(wc -c <"$out" | tr -d ' ')"
  cat "$out"
  rm -f "$out"
done`

// run sends command to the session (starting it first if needed) and
// returns its output; a non-zero exit is an error.
func (c *commands) run(ctx context.Context, h *SSH, command string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.s == nil {
		if err := c.start(h); err != nil {
			return nil, err
		}
	}
	type result struct {
		out    []byte
		status int
		err    error
	}
	done := make(chan result, 1)
	in, out := c.in, c.out
	go func() {
		var r result
		if _, r.err = io.WriteString(in, base64.StdEncoding.EncodeToString([]byte(command))+"\n"); r.err != nil {
			done <- r
			return
		}
		header, err := out.ReadString('\n')
		status, size, ok := strings.Cut(strings.TrimSpace(header), " ")
		n, nerr := strconv.Atoi(size)
		if r.status, _ = strconv.Atoi(status); err != nil || !ok || nerr != nil || n < 0 {
			r.err = fmt.Errorf("the command session ended (%v)", err)
			done <- r
			return
		}
		r.out = make([]byte, n)
		_, r.err = io.ReadFull(out, r.out)
		done <- r
	}()
	select {
	case r := <-done:
		if r.err != nil {
			c.close()
			return r.out, r.err
		}
		if r.status != 0 {
			return r.out, fmt.Errorf("exited with status %d", r.status)
		}
		return r.out, nil
	case <-ctx.Done():
		c.close() // the shell and the command with it; the reader ends with the channel
		return nil, ctx.Err()
	}
}

// start opens the session: sh -c DRIVER, with the host's environment,
// through sudo -n with become.
func (c *commands) start(h *SSH) error {
	s, err := h.client.NewSession()
	if err != nil {
		return err
	}
	in, err := s.StdinPipe()
	if err != nil {
		s.Close()
		return err
	}
	out, err := s.StdoutPipe()
	if err != nil {
		s.Close()
		return err
	}
	line := "sh -c " + quote(driver)
	if len(h.cfg.Env) > 0 {
		words := []string{"env"}
		for _, kv := range h.cfg.Env {
			words = append(words, quote(kv))
		}
		line = strings.Join(words, " ") + " " + line
	}
	if h.cfg.Become {
		line = "sudo -n " + line
	}
	var stderr strings.Builder
	s.Stderr = &limited{w: &stderr, n: 4096}
	if err := s.Start(line); err != nil {
		s.Close()
		return err
	}
	c.s, c.in, c.out = s, in, bufio.NewReader(out)
	return nil
}

// close ends the session; the next command starts another.
func (c *commands) close() {
	if c.s != nil {
		c.s.Signal(ssh.SIGKILL)
		c.s.Close()
		c.s, c.in, c.out = nil, nil, nil
	}
}

// limited keeps the first n bytes written to it.
type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
