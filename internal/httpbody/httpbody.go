// Package httpbody reads request bodies for the handlers that must see the
// whole body before answering (signed webhooks, Slack), and says which
// status a failed read deserves.
package httpbody

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
)

// Read reads r's body, at most max bytes. On an error, Status says how to
// answer.
func Read(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, max))
}

// Status is the answer to a body that could not be read: 413 when it is
// larger than max, 408 when the sender was too slow to send it (the
// server's read timeout), 400 otherwise; with a message that says which.
func Status(err error, max int64) (int, string) {
	var tooBig *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", max)
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return http.StatusRequestTimeout, "the body did not arrive in time: send the request again"
	}
	return http.StatusBadRequest, "reading the body failed: " + err.Error()
}
