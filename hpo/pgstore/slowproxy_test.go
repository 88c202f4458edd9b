package pgstore_test

import (
	"io"
	"net"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// slowProxy returns the database URL db reached through a proxy that
// opens each connection after delay, as a slow network would; it closes
// with the test.
func slowProxy(t *testing.T, db string, delay time.Duration) string {
	u, _ := countingProxy(t, db, delay)
	return u
}

// countingProxy is slowProxy that also counts the connections it accepts.
func countingProxy(t *testing.T, db string, delay time.Duration) (string, *atomic.Int32) {
	t.Helper()
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns := new(atomic.Int32)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				time.Sleep(delay) // the slow network the proxy stands for
				d, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer d.Close()
				go io.Copy(d, c)
				io.Copy(c, d)
			}()
		}
	}()
	u.Host = ln.Addr().String()
	return u.String(), conns
}
