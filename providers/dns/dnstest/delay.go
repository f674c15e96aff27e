package dnstest

import (
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// DelayProxy forwards DNS over UDP and TCP to upstream, holding every
// answer back by delay (over TCP, the first bytes of each connection: a
// query, or a whole zone transfer): a remote server's round trip, on
// loopback. It returns its address.
func DelayProxy(t testing.TB, upstream string, delay time.Duration) string {
	t.Helper()
	return StartProxy(t, upstream, delay).Addr
}

// Proxy is a DelayProxy that counts what passes through it.
type Proxy struct {
	Addr     string
	messages atomic.Int64
}

// Messages is how many requests reached the server through the proxy: each
// UDP question and each TCP connection (a question over TCP, or a whole
// zone transfer).
func (p *Proxy) Messages() int64 { return p.messages.Load() }

// Reset starts counting again.
func (p *Proxy) Reset() { p.messages.Store(0) }

// StartProxy starts a DelayProxy to upstream that counts the requests.
func StartProxy(t testing.TB, upstream string, delay time.Duration) *Proxy {
	t.Helper()
	p := &Proxy{}
	pc, ln := listenBoth(t)
	t.Cleanup(func() { pc.Close() })
	t.Cleanup(func() { ln.Close() })
	go delayTCP(ln, upstream, delay, &p.messages)
	go func() {
		buf := make([]byte, 65535)
		for {
			n, client, err := pc.ReadFrom(buf)
			if err != nil {
				return // closed
			}
			query := append([]byte(nil), buf[:n]...)
			p.messages.Add(1)
			go func() {
				time.Sleep(delay)
				up, err := net.Dial("udp", upstream)
				if err != nil {
					return
				}
				defer up.Close()
				up.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := up.Write(query); err != nil {
					return
				}
				answer := make([]byte, 65535)
				m, err := up.Read(answer)
				if err != nil {
					return
				}
				pc.WriteTo(answer[:m], client)
			}()
		}
	}()
	p.Addr = pc.LocalAddr().String()
	return p
}

func delayTCP(ln net.Listener, upstream string, delay time.Duration, count *atomic.Int64) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed
		}
		count.Add(1)
		go func() {
			defer c.Close()
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				return
			}
			defer up.Close()
			go io.Copy(up, c)
			buf := make([]byte, 65535)
			for first := true; ; first = false {
				n, err := up.Read(buf)
				if n > 0 && first {
					time.Sleep(delay)
				}
				if n > 0 {
					if _, werr := c.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// listenBoth listens on one loopback port for UDP and TCP alike: a free
// UDP port whose TCP twin is free too (another process may hold it).
func listenBoth(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	var err error
	for range 50 {
		var pc net.PacketConn
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			continue
		}
		var ln net.Listener
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			return pc, ln
		}
		pc.Close()
	}
	t.Fatalf("no loopback port free for both UDP and TCP: %v", err)
	return nil, nil
}
