package store

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Code classifies an error so that every transport (Slack, HTTP, CLI) can
// answer it the same way without knowing which backend produced it.
type Code string

// Error codes. Backends translate their drivers' errors into these.
const (
	ENOTFOUND    Code = "not_found"
	EINVALID     Code = "invalid"
	ECONFLICT    Code = "conflict"
	EFORBIDDEN   Code = "forbidden"
	EUNAVAILABLE Code = "unavailable" // the backend cannot be reached; the caller may retry
	EINTERNAL    Code = "internal"
)

// Error is a domain error: a code, the field it concerns (if any) and a
// message that is safe to show to a broker.
type Error struct {
	Code    Code
	Field   string
	Message string
	Err     error // underlying cause, never shown to users
	// Holder is, for an ECONFLICT about a value another client already
	// holds, that client. Message never names it: a transport names it only
	// to someone who may see that client (a client of another desk is not
	// to be revealed).
	Holder *Holder
}

// Holder identifies the client that already holds a unique value (handle,
// email, phone or account number), and the value.
type Holder struct {
	ID     uuid.UUID
	Handle string
	Team   string
	Value  string // normalised, as the field stores it
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Holder != nil {
		// For logs and the operator's command line, not for brokers
		// (ErrorMessage leaves it out).
		msg += " (held by " + e.Holder.Handle + " of desk " + e.Holder.Team + ")"
	}
	if e.Err != nil && (e.Code == EINTERNAL || e.Code == EUNAVAILABLE) {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming the field and, when given, the
// offending value.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Unavailable wraps a connectivity failure so callers know to retry.
func Unavailable(what string, err error) *Error {
	return &Error{Code: EUNAVAILABLE, Message: what + " is unavailable", Err: err}
}

// Internal wraps an unexpected failure.
func Internal(what string, err error) *Error {
	return &Error{Code: EINTERNAL, Message: what, Err: err}
}

// ErrorCode returns the code of err, EINTERNAL for errors that are not ours,
// and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing text of err; unexpected errors are not
// described to users.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		if e.Code == EINTERNAL {
			return "internal error"
		}
		if e.Field != "" {
			return e.Field + ": " + e.Message
		}
		return e.Message
	}
	return "internal error"
}

// IsRetryable reports whether the operation may succeed if tried again.
func IsRetryable(err error) bool { return ErrorCode(err) == EUNAVAILABLE }

// Conflict returns an ECONFLICT error about a value that another record
// already holds.
func Conflict(field, format string, args ...any) *Error {
	return &Error{Code: ECONFLICT, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Taken returns the ECONFLICT of a value (what: "handle", "email",
// "phone" or "account") that holder already has. Its message says the value
// is in use, without naming the holder; the holder travels in the error.
func Taken(field, what, value string, holder Holder) *Error {
	holder.Value = value
	return &Error{Code: ECONFLICT, Field: field, Holder: &holder,
		Message: fmt.Sprintf("%s %s is already in use by another client", what, value)}
}

// ConflictHolder returns the client holding the value an ECONFLICT is
// about, when the store knows it.
func ConflictHolder(err error) (Holder, bool) {
	var e *Error
	if errors.As(err, &e) && e.Code == ECONFLICT && e.Holder != nil {
		return *e.Holder, true
	}
	return Holder{}, false
}

// InImport adds to an error about one client of an import which client it
// concerns (by handle and 1-based position), keeping its code and field.
func InImport(err error, i int, handle string) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	if handle = strings.TrimSpace(handle); handle == "" {
		handle = "with no handle"
	}
	return &Error{Code: e.Code, Field: e.Field, Err: e.Err, Holder: e.Holder,
		Message: fmt.Sprintf("%s (importing client %s, #%d)", e.Message, handle, i+1)}
}
