package cassandra

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/brokersync/brokersync/store"
)

// mapErr translates a driver error into a store error. what names the
// operation for logs; brokers only ever see the code's generic message.
//
// EUNAVAILABLE means "try again later": no host reachable, a timeout, not
// enough live replicas, an overloaded or starting node, a dropped connection.
// Everything else (bad CQL, a schema mismatch, authentication) is a defect or
// a misconfiguration, which retrying does not fix: EINTERNAL.
func mapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	var se *store.Error
	if errors.As(err, &se) {
		return err
	}
	if errors.Is(err, gocql.ErrNotFound) {
		return &store.Error{Code: store.ENOTFOUND, Message: "not found", Err: err}
	}
	if retryable(err) {
		return store.Unavailable("cassandra ("+what+")", err)
	}
	return store.Internal("cassandra: "+what, err)
}

func retryable(err error) bool {
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, gocql.ErrNoConnections), errors.Is(err, gocql.ErrNoConnectionsStarted),
		errors.Is(err, gocql.ErrUnavailable), errors.Is(err, gocql.ErrTimeoutNoResponse),
		errors.Is(err, gocql.ErrConnectionClosed), errors.Is(err, gocql.ErrNoStreams),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var reqErr gocql.RequestError
	if errors.As(err, &reqErr) {
		switch reqErr.Code() {
		case gocql.ErrCodeUnavailable, gocql.ErrCodeOverloaded, gocql.ErrCodeBootstrapping,
			gocql.ErrCodeWriteTimeout, gocql.ErrCodeReadTimeout, gocql.ErrCodeTruncate,
			gocql.ErrCodeReadFailure, gocql.ErrCodeWriteFailure:
			return true
		}
	}
	return false
}

// connectErr maps a failure to create a session. The driver flattens the
// cause into text ("unable to create session: ...: connection refused"), so
// errors.Is cannot see it; a session that cannot be created is a node that
// cannot be reached, except when the node refused our credentials.
func connectErr(err error) error {
	var reqErr gocql.RequestError
	if errors.As(err, &reqErr) && (reqErr.Code() == gocql.ErrCodeCredentials || reqErr.Code() == gocql.ErrCodeUnauthorized) {
		return store.Internal("cassandra: connect", err)
	}
	if errors.Is(err, gocql.ErrNoHosts) {
		return store.Invalid("cassandra hosts", "no usable host in the list")
	}
	return store.Unavailable("cassandra (connect)", err)
}
