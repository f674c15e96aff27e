package host

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/trustform/trustform/internal/netpolicy"
)

// SSHConfig says how to reach a host over SSH.
type SSHConfig struct {
	Name         string // host.NAME, for messages
	Address      string // host:port
	User         string
	IdentityFile string // the private key; "" for the agent at SSH_AUTH_SOCK
	KnownHosts   string // checked strictly: an unknown or changed key is refused
	Jump         string // a bastion, [user@]host[:port], or ""
	Become       bool   // commands and files through sudo -n, as root
	Root         string // below it no link is followed on the way to a written file
	Timeout      time.Duration
	Env          []string // NAME=VALUE for every command, set with env(1)
	// Policy restricts where the connection may go (an untrusted plan):
	// the host, its jump host, and the jump host's onward connection.
	Policy *netpolicy.Policy
}

// SSH is a host reached over one SSH connection, dialled on first use and
// shared by every file operation and command of the run. Files go over the
// host's sftp subsystem, which starts no shell where sshd serves it itself
// (internal-sftp), or, with become, over an SFTP server started through
// sudo -n with umask 077. A file is written where no one else can reach it
// before it has its mode (see writeFile). Commands go through one session
// per run (commands.go): a login shell that sources a slow rc file is paid
// once, not per command.
type SSH struct {
	cfg SSHConfig

	mu      sync.Mutex
	client  *ssh.Client
	jump    *ssh.Client
	sftp    *sftp.Client
	uid     int
	dialErr error
	// private: the SFTP server's umask is not ours (the subsystem), so a
	// new file is made in a directory of its own that only this user can
	// enter, and moved into place once it has its mode.
	private bool
	cmds    commands
}

var _ Host = (*SSH)(nil)

// NewSSH returns the host; nothing is dialled until it is used.
func NewSSH(cfg SSHConfig) *SSH {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Root == "" {
		cfg.Root = "/"
	}
	return &SSH{cfg: cfg}
}

// Close ends the connection.
func (h *SSH) Close() error {
	h.cmds.mu.Lock()
	h.cmds.close()
	h.cmds.mu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	if h.sftp != nil {
		errs = append(errs, h.sftp.Close())
	}
	if h.client != nil {
		errs = append(errs, h.client.Close())
	}
	if h.jump != nil {
		errs = append(errs, h.jump.Close())
	}
	h.sftp, h.client, h.jump = nil, nil, nil
	return errors.Join(errs...)
}

// Connect dials the host now rather than at its first use.
func (h *SSH) Connect() error {
	_, _, err := h.connect()
	return err
}

// connect dials once; a failure is kept, so every later operation of the
// run reports the same reason at once instead of waiting again.
func (h *SSH) connect() (*ssh.Client, *sftp.Client, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.client != nil || h.dialErr != nil {
		return h.client, h.sftp, h.dialErr
	}
	err := h.dial()
	if err != nil {
		h.dialErr = fmt.Errorf("%s (%s): %w", h.cfg.Name, h.cfg.Address, err)
	}
	return h.client, h.sftp, h.dialErr
}

func (h *SSH) dial() error {
	cfg, err := h.clientConfig(h.cfg.User, h.cfg.Address)
	if err != nil {
		return err
	}
	ctx := netpolicy.With(context.Background(), h.cfg.Policy)
	dialer := netpolicy.Dialer(&net.Dialer{Timeout: h.cfg.Timeout})
	var conn net.Conn
	if h.cfg.Jump != "" {
		user, addr := splitUserHost(h.cfg.Jump, h.cfg.User)
		jcfg, err := h.clientConfig(user, addr)
		if err != nil {
			return err
		}
		jconn, err := dialer.DialContext(ctx, "tcp", addr)
		if err != nil {
			return fmt.Errorf("through the jump host %s: %w", addr, err)
		}
		jconn.SetDeadline(time.Now().Add(h.cfg.Timeout))
		jc, chans, reqs, err := h.handshake(jconn, addr, jcfg, func() (net.Conn, error) { return dialer.DialContext(ctx, "tcp", addr) })
		if err != nil {
			jconn.Close()
			return fmt.Errorf("through the jump host %s: %w", addr, err)
		}
		jconn.SetDeadline(time.Time{})
		h.jump = ssh.NewClient(jc, chans, reqs)
		if err := netpolicy.CheckRemote(ctx, h.cfg.Address); err != nil {
			return fmt.Errorf("through the jump host %s: %w", addr, err)
		}
		conn, err = h.jump.Dial("tcp", h.cfg.Address)
		if err != nil {
			return fmt.Errorf("through the jump host %s: %w", addr, err)
		}
	} else if conn, err = dialer.DialContext(ctx, "tcp", h.cfg.Address); err != nil {
		return err
	}
	conn.SetDeadline(time.Now().Add(h.cfg.Timeout))
	c, chans, reqs, err := h.handshake(conn, h.cfg.Address, cfg, func() (net.Conn, error) {
		if h.jump != nil {
			return h.jump.Dial("tcp", h.cfg.Address)
		}
		return dialer.DialContext(ctx, "tcp", h.cfg.Address)
	})
	if err != nil {
		conn.Close()
		return err
	}
	conn.SetDeadline(time.Time{})
	h.client = ssh.NewClient(c, chans, reqs)
	slog.Info("ssh: connected", "host", h.cfg.Name, "address", h.cfg.Address, "user", h.cfg.User)
	start := h.subsystemSFTP
	if h.cfg.Become {
		start = h.startSFTP
	}
	if h.sftp, h.uid, err = start(); err != nil {
		h.client.Close()
		h.client = nil
		return err
	}
	return nil
}

// subsystemSFTP opens the host's sftp subsystem, as sftp(1) does: no
// command, so where sshd serves SFTP itself no shell starts. The user
// trustform acts as owns its home directory (whoever owns it could change
// the account's authorized keys), which is where the server starts.
func (h *SSH) subsystemSFTP() (*sftp.Client, int, error) {
	c, err := sftp.NewClient(h.client)
	if err != nil {
		return nil, 0, fmt.Errorf("the sftp subsystem (%s): %w", h.as(), err)
	}
	home, err := c.Getwd()
	if err != nil {
		c.Close()
		return nil, 0, fmt.Errorf("the sftp subsystem (%s): its directory: %w", h.as(), err)
	}
	st, err := c.Lstat(home)
	if err != nil {
		c.Close()
		return nil, 0, fmt.Errorf("the sftp subsystem (%s): %s: %w", h.as(), home, err)
	}
	fs, ok := st.Sys().(*sftp.FileStat)
	if !ok {
		c.Close()
		return nil, 0, fmt.Errorf("the sftp subsystem (%s): %s has no owner", h.as(), home)
	}
	h.private = true
	return c, int(fs.UID), nil
}

// sessionStart bounds how long an authenticated host's login shell may
// take to start the SFTP server.
const sessionStart = 60 * time.Second

// startSFTP runs OpenSSH's sftp-server in a session with umask 077 (as root
// through sudo -n with become): where it lives differs between systems.
// The same session first says the uid it runs as, on stderr, so that a
// connection costs one command: on sshd an exec takes as long as the
// key exchange.
func (h *SSH) startSFTP() (*sftp.Client, int, error) {
	s, err := h.client.NewSession()
	if err != nil {
		return nil, 0, err
	}
	w, err := s.StdinPipe()
	if err != nil {
		return nil, 0, err
	}
	r, err := s.StdoutPipe()
	if err != nil {
		return nil, 0, err
	}
	e, err := s.StderrPipe()
	if err != nil {
		return nil, 0, err
	}
	script := `echo "trustform-uid $(id -u)" >&2; for p in /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server /usr/lib/ssh/sftp-server /usr/libexec/sftp-server; do [ -x "$p" ] && exec "$p" -u 077; done; echo "no sftp-server found" >&2; exit 127`
	cmd := "sh -c " + quote(script)
	if h.cfg.Become {
		cmd = "sudo -n " + cmd
	}
	if err := s.Start(cmd); err != nil {
		return nil, 0, err
	}
	// The uid line may come after what the host's shell or sudo said
	// first; those lines explain a failure. A host that says nothing in
	// time is given up, its connection closed. The host is up (it has
	// authenticated us) but the login shell runs its rc files first, and
	// those can take seconds when many sessions start at once (a pyenv
	// init in root's .bashrc took over 10 s with ten on two cores): the
	// bound is generous.
	timer := time.AfterFunc(max(h.cfg.Timeout, sessionStart), func() { h.client.Close() })
	defer timer.Stop()
	stderr := bufio.NewReader(e)
	uid := -1
	var said []string
	for len(said) < 20 {
		line, err := stderr.ReadString('\n')
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "trustform-uid "); ok {
			uid, _ = strconv.Atoi(rest)
			break
		}
		if strings.TrimSpace(line) != "" {
			said = append(said, strings.TrimSpace(line))
		}
		if err != nil {
			break
		}
	}
	if uid < 0 {
		s.Close()
		return nil, 0, fmt.Errorf("starting the SFTP server (%s): %s", h.as(), strings.Join(said, "; "))
	}
	go io.Copy(io.Discard, stderr) // sftp-server's own messages
	c, err := sftp.NewClientPipe(r, w)
	if err != nil {
		s.Wait()
		return nil, 0, fmt.Errorf("starting the SFTP server (%s): %v", h.as(), err)
	}
	return c, uid, nil
}

// as says whom the host's commands run as.
func (h *SSH) as() string {
	if h.cfg.Become {
		return "as root through sudo -n"
	}
	return "as " + h.cfg.User
}

func (h *SSH) clientConfig(user, addr string) (*ssh.ClientConfig, error) {
	auth, err := h.auth()
	if err != nil {
		return nil, err
	}
	known, err := readKnownHosts(h.cfg.KnownHosts)
	if err != nil {
		return nil, fmt.Errorf("known_hosts: %w", err)
	}
	return &ssh.ClientConfig{
		User:              user,
		Auth:              []ssh.AuthMethod{auth},
		HostKeyCallback:   func(hostname string, _ net.Addr, key ssh.PublicKey) error { return known.check(hostname, key) },
		HostKeyAlgorithms: known.algorithms(addr),
		Timeout:           h.cfg.Timeout,
	}, nil
}

// handshake is ssh.NewClientConn, saying what OpenSSH says when the host
// offers none of the key types known_hosts has for it: its key changed
// (REMOTE HOST IDENTIFICATION HAS CHANGED), with both fingerprints. The
// key it offers is fetched by a second handshake that stops at the key.
func (h *SSH) handshake(conn net.Conn, addr string, cfg *ssh.ClientConfig, redial func() (net.Conn, error)) (ssh.Conn, <-chan ssh.NewChannel, <-chan *ssh.Request, error) {
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err == nil || !strings.Contains(err.Error(), "no common algorithm for host key") {
		return c, chans, reqs, err
	}
	known, rerr := readKnownHosts(h.cfg.KnownHosts)
	second, derr := redial()
	if rerr != nil || derr != nil {
		return nil, nil, nil, err
	}
	defer second.Close()
	second.SetDeadline(time.Now().Add(h.cfg.Timeout))
	var offered error
	probe := &ssh.ClientConfig{User: cfg.User, Timeout: h.cfg.Timeout, HostKeyCallback: func(hostname string, _ net.Addr, key ssh.PublicKey) error {
		offered = known.check(hostname, key)
		return errors.New("stop: only the host key was wanted")
	}}
	ssh.NewClientConn(second, addr, probe)
	if offered != nil {
		return nil, nil, nil, offered
	}
	return nil, nil, nil, err
}

func (h *SSH) auth() (ssh.AuthMethod, error) {
	if h.cfg.IdentityFile != "" {
		b, err := os.ReadFile(h.cfg.IdentityFile)
		if err != nil {
			return nil, fmt.Errorf("identity_file: %w", err)
		}
		signer, err := ssh.ParsePrivateKey(b)
		if err != nil {
			return nil, fmt.Errorf("identity_file %s: %w", h.cfg.IdentityFile, err)
		}
		return ssh.PublicKeys(signer), nil
	}
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return nil, errors.New("no identity_file, and no SSH agent (SSH_AUTH_SOCK is not set)")
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("the SSH agent at %s: %w", sock, err)
	}
	return ssh.PublicKeysCallback(agent.NewClient(conn).Signers), nil
}

// UID is the user trustform acts as on the host: the login user, or root
// with become.
func (h *SSH) UID() int {
	h.connect()
	return h.uid
}

// ReadFile reads path; missing is (nil, nil).
func (h *SSH) ReadFile(p string) ([]byte, error) {
	b, err := h.readFile(p)
	return b, h.named(err)
}

func (h *SSH) readFile(p string) ([]byte, error) {
	_, fc, err := h.connect()
	if err != nil {
		return nil, err
	}
	slog.Debug("ssh: read", "host", h.cfg.Name, "path", p)
	f, err := fc.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	defer f.Close()
	return io.ReadAll(f)
}

// Stat describes path without following a final link; missing is (nil, nil).
func (h *SSH) Stat(p string) (fs.FileInfo, error) {
	st, err := h.stat(p)
	return st, h.named(err)
}

func (h *SSH) stat(p string) (fs.FileInfo, error) {
	_, fc, err := h.connect()
	if err != nil {
		return nil, err
	}
	st, err := fc.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return st, err
}

// WriteFile replaces path atomically on the host: a temporary file in the
// same directory, written, synced, given its mode and renamed over path. No
// one else can open it before it has its mode: with become the SFTP
// server's umask is 077; otherwise (the subsystem, whose umask is the
// host's) it is made in a directory of its own beside path, mode 0700
// before anything is in it. A link at path, or on the way to it below the
// host's root, is refused.
func (h *SSH) WriteFile(p string, data []byte, perm fs.FileMode) error {
	return h.named(h.writeFile(p, data, perm))
}

func (h *SSH) writeFile(p string, data []byte, perm fs.FileMode) error {
	_, fc, err := h.connect()
	if err != nil {
		return err
	}
	slog.Info("ssh: write", "host", h.cfg.Name, "path", p, "bytes", len(data), "mode", fmt.Sprintf("%04o", perm))
	if err := noLinksBeneath(fc.Lstat, h.cfg.Root, p); err != nil {
		return err
	}
	dir := path.Dir(p)
	if err := h.mkdirAll(fc, dir); err != nil {
		return err
	}
	suffix := make([]byte, 6)
	rand.Read(suffix)
	tmp := path.Join(dir, "."+path.Base(p)+".tmp"+hex.EncodeToString(suffix))
	if h.private {
		private := tmp + ".d"
		if err := h.privateDir(fc, private); err != nil {
			return err
		}
		defer fc.RemoveDirectory(private)
		tmp = path.Join(private, path.Base(p))
	}
	f, err := fc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("%s: %w", tmp, err)
	}
	defer fc.Remove(tmp) // fails harmlessly after the rename
	write := func() error {
		if _, err := f.Write(data); err != nil {
			return err
		}
		if err := f.Sync(); err != nil && !errors.Is(err, sftp.ErrSSHFxOpUnsupported) {
			return err
		}
		return f.Chmod(perm)
	}
	if err := errors.Join(write(), f.Close()); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if err := fc.PosixRename(tmp, p); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

// privateDir makes dir, a new directory only this user may enter: made,
// then mode 0700, then checked to be that directory, owned by this user,
// before anything is put in it. (One that another user opened while it
// was still open to all cannot be entered through: every lookup checks
// its mode as it is then.)
func (h *SSH) privateDir(fc *sftp.Client, dir string) error {
	if err := fc.Mkdir(dir); err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	if err := fc.Chmod(dir, 0o700); err != nil {
		fc.RemoveDirectory(dir)
		return fmt.Errorf("%s: %w", dir, err)
	}
	st, err := fc.Lstat(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	fs, ok := st.Sys().(*sftp.FileStat)
	if !st.IsDir() || st.Mode().Perm() != 0o700 || !ok || int(fs.UID) != h.uid {
		return fmt.Errorf("%s is not the private directory trustform just made (mode %v); another user may be writing beside it", dir, st.Mode())
	}
	return nil
}

// mkdirAll creates the missing directories of dir, 0755 as they would be
// created on this machine.
func (h *SSH) mkdirAll(fc *sftp.Client, dir string) error {
	if st, err := fc.Stat(dir); err == nil && st.IsDir() {
		return nil
	}
	if parent := path.Dir(dir); parent != dir {
		if err := h.mkdirAll(fc, parent); err != nil {
			return err
		}
	}
	if err := fc.Mkdir(dir); err != nil {
		if st, serr := fc.Stat(dir); serr == nil && st.IsDir() {
			return nil
		}
		return fmt.Errorf("%s: %w", dir, err)
	}
	return fc.Chmod(dir, 0o755)
}

// Chown gives p to uid and gid (an SFTP SETSTAT of a file trustform has
// just written).
func (h *SSH) Chown(p string, uid, gid int) error {
	_, fc, err := h.connect()
	if err != nil {
		return err
	}
	return h.named(fc.Chown(p, uid, gid))
}

// Remove deletes path; a missing file is not an error.
func (h *SSH) Remove(p string) error {
	return h.named(h.remove(p))
}

func (h *SSH) remove(p string) error {
	_, fc, err := h.connect()
	if err != nil {
		return err
	}
	if err := noLinksBeneath(fc.Lstat, h.cfg.Root, path.Dir(p)); err != nil {
		return err
	}
	if err := fc.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

// Glob lists the paths matching pattern, sorted.
func (h *SSH) Glob(pattern string) ([]string, error) {
	out, err := h.glob(pattern)
	return out, h.named(err)
}

func (h *SSH) glob(pattern string) ([]string, error) {
	_, fc, err := h.connect()
	if err != nil {
		return nil, err
	}
	out, err := fc.Glob(pattern)
	sort.Strings(out)
	return out, err
}

// Run runs command with sh -c on the host (through sudo -n with become), in
// the run's command session.
func (h *SSH) Run(ctx context.Context, command string) ([]byte, error) {
	if err := mayRun(ctx); err != nil {
		return nil, h.named(err)
	}
	out, err := h.run(ctx, command)
	return out, h.named(err)
}

func (h *SSH) run(ctx context.Context, command string) ([]byte, error) {
	if _, _, err := h.connect(); err != nil {
		return nil, err
	}
	out, err := h.output(ctx, command)
	slog.Info("ssh: run", "host", h.cfg.Name, "command", command, "result", errOr(err, "ok"), "output_bytes", len(out))
	return out, err
}

// errOr is err, or ok when there is none, for a log line.
func errOr(err error, ok string) any {
	if err != nil {
		return err
	}
	return ok
}

func (h *SSH) output(ctx context.Context, command string) ([]byte, error) {
	return h.cmds.run(ctx, h, command)
}

// named puts the host's name in front of an error that lacks it, so that a
// failed step says which host failed it.
func (h *SSH) named(err error) error {
	if err == nil || strings.Contains(err.Error(), h.cfg.Name) {
		return err
	}
	return fmt.Errorf("%s: %w", h.cfg.Name, err)
}

// quote makes s one word for a POSIX shell.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// splitUserHost parses a jump host, [user@]host[:port].
func splitUserHost(s, defaultUser string) (user, addr string) {
	user = defaultUser
	if u, rest, ok := strings.Cut(s, "@"); ok {
		user, s = u, rest
	}
	if _, _, err := net.SplitHostPort(s); err != nil {
		s = net.JoinHostPort(s, "22")
	}
	return user, s
}
