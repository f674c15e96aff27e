package dnstest

import (
	"net"
	"testing"
	"time"
)

// DelayProxy forwards DNS over UDP to upstream, holding every answer back by
// delay: a remote server's round trip, on loopback. It returns its address.
func DelayProxy(t testing.TB, upstream string, delay time.Duration) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	must(t, err)
	t.Cleanup(func() { pc.Close() })
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
