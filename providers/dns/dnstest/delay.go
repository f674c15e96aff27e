package dnstest

import (
	"io"
	"net"
	"testing"
	"time"
)

// DelayProxy forwards DNS over UDP and TCP to upstream, holding every
// answer back by delay (over TCP, the first bytes of each connection: a
// query, or a whole zone transfer): a remote server's round trip, on
// loopback. It returns its address.
func DelayProxy(t testing.TB, upstream string, delay time.Duration) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	must(t, err)
	t.Cleanup(func() { pc.Close() })
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	must(t, err)
	t.Cleanup(func() { ln.Close() })
	go delayTCP(ln, upstream, delay)
	go func() {
		buf := make([]byte, 65535)
		for {
			n, client, err := pc.ReadFrom(buf)
			if err != nil {
				return // closed
			}
			query := append([]byte(nil), buf[:n]...)
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
	return pc.LocalAddr().String()
}

func delayTCP(ln net.Listener, upstream string, delay time.Duration) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed
		}
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
