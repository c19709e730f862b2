package cassandra

import (
	"context"
	"errors"
	"fmt"
	"testing"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/brokersync/brokersync/store"
)

// serverError stands in for the driver's RequestErr* types, whose fields are
// not exported.
type serverError int

func (e serverError) Code() int       { return int(e) }
func (e serverError) Message() string { return fmt.Sprintf("server error %#x", int(e)) }
func (e serverError) Error() string   { return e.Message() }

func TestMapErr(t *testing.T) {
	for _, c := range []struct {
		err  error
		want store.Code
	}{
		{gocql.ErrNotFound, store.ENOTFOUND},
		{gocql.ErrNoConnections, store.EUNAVAILABLE},
		{fmt.Errorf("wrapped: %w", gocql.ErrTimeoutNoResponse), store.EUNAVAILABLE},
		{gocql.ErrConnectionClosed, store.EUNAVAILABLE},
		{context.DeadlineExceeded, store.EUNAVAILABLE},
		{serverError(gocql.ErrCodeWriteTimeout), store.EUNAVAILABLE},
		{serverError(gocql.ErrCodeReadTimeout), store.EUNAVAILABLE},
		{serverError(gocql.ErrCodeUnavailable), store.EUNAVAILABLE},
		{serverError(gocql.ErrCodeOverloaded), store.EUNAVAILABLE},
		{serverError(gocql.ErrCodeSyntax), store.EINTERNAL},
		{serverError(gocql.ErrCodeInvalid), store.EINTERNAL},
		{errors.New("something else"), store.EINTERNAL},
		{store.Invalid("cursor", "bad"), store.EINVALID},
	} {
		if got := store.ErrorCode(mapErr("test", c.err)); got != c.want {
			t.Errorf("mapErr(%v) = %q, want %q", c.err, got, c.want)
		}
	}
	if mapErr("test", nil) != nil {
		t.Error("mapErr(nil) is not nil")
	}
	if got := store.ErrorCode(connectErr(errors.New("gocql: unable to create session: connection refused"))); got != store.EUNAVAILABLE {
		t.Errorf("connectErr(refused) = %q, want EUNAVAILABLE", got)
	}
	if got := store.ErrorCode(connectErr(serverError(gocql.ErrCodeCredentials))); got != store.EINTERNAL {
		t.Errorf("connectErr(bad credentials) = %q, want EINTERNAL", got)
	}
}
