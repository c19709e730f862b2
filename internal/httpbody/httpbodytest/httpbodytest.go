// Package httpbodytest sends requests whose bodies never arrive whole, for
// tests of how a server answers a slow sender.
package httpbodytest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// Stall posts to path on addr a request that announces a 1,000-byte body
// and sends only partial, then waits up to 10 s for the answer, which it
// returns with its body read.
func Stall(t testing.TB, addr, path, contentType, partial string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: test\r\nContent-Type: %s\r\nContent-Length: 1000\r\n\r\n%s", path, contentType, partial)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}
