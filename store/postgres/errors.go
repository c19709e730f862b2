package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/brokersync/brokersync/store"
)

// mapError translates a driver error into a store error so that transports
// answer it without knowing PostgreSQL: what says what was being done.
// Unique violations come back as a bare ECONFLICT; the write paths replace it
// with one that names the field and the client holding the value.
func mapError(what string, err error) error {
	if err == nil {
		return nil
	}
	var se *store.Error
	if errors.As(err, &se) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &store.Error{Code: store.ENOTFOUND, Message: "not found", Err: err}
	}
	if isUnavailable(err) {
		return store.Unavailable("PostgreSQL ("+what+")", err)
	}
	if isUniqueViolation(err) {
		return &store.Error{Code: store.ECONFLICT, Message: "already taken by another client", Err: err}
	}
	return store.Internal(what, err)
}

const uniqueViolation = "23505"

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == uniqueViolation
}

// isUnavailable reports errors after which the same request may succeed if
// tried again: the server could not be reached, went away, is starting or
// shutting down, or is out of connections; or the deadline ran out.
func isUnavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"): // connection exception
			return true
		case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // admin/crash shutdown, cannot connect now
			return true
		case pe.Code == "53300": // too many connections
			return true
		case pe.Code == "40001", pe.Code == "40P01": // serialization failure, deadlock: retrying is the cure
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne):
		return true
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	case pgconn.Timeout(err), pgconn.SafeToRetry(err):
		return true
	}
	return false
}

// notFound is the ENOTFOUND a lookup returns, naming what was looked up.
func notFound(what, value string) error {
	return store.Errorf(store.ENOTFOUND, "no client with %s %q", what, value)
}

func isForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}
