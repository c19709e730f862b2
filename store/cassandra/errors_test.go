package cassandra

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// fakeAttempt is a RetryableQuery after n attempts, under ctx.
type fakeAttempt struct {
	n   int
	ctx context.Context
}

func (q fakeAttempt) Attempts() int                    { return q.n }
func (q fakeAttempt) SetConsistency(gocql.Consistency) {}
func (q fakeAttempt) GetConsistency() gocql.Consistency {
	return gocql.LocalQuorum
}
func (q fakeAttempt) Context() context.Context { return q.ctx }

// The driver retries an idempotent statement on the next replica only when
// another attempt may succeed, at most twice, and never past its request's
// deadline; bad CQL or a refused login fail at once.
func TestRetryPolicy(t *testing.T) {
	cl := Config{Hosts: []string{"127.0.0.1"}, Keyspace: "ks"}.cluster(gocql.LocalQuorum, slog.New(slog.DiscardHandler))
	p, ok := cl.RetryPolicy.(retryPolicy)
	if !ok {
		t.Fatalf("the cluster's retry policy is %T, want retryPolicy", cl.RetryPolicy)
	}
	for _, c := range []struct {
		err  error
		want gocql.RetryType
	}{
		{serverError(gocql.ErrCodeUnavailable), gocql.RetryNextHost},
		{serverError(gocql.ErrCodeWriteTimeout), gocql.RetryNextHost},
		{serverError(gocql.ErrCodeOverloaded), gocql.RetryNextHost},
		{gocql.ErrConnectionClosed, gocql.RetryNextHost},
		{serverError(gocql.ErrCodeSyntax), gocql.Rethrow},
		{serverError(gocql.ErrCodeInvalid), gocql.Rethrow},
		{serverError(gocql.ErrCodeCredentials), gocql.Rethrow},
	} {
		if got := p.GetRetryType(c.err); got != c.want {
			t.Errorf("GetRetryType(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	ctx := context.Background()
	if !p.Attempt(fakeAttempt{1, ctx}) || !p.Attempt(fakeAttempt{2, ctx}) {
		t.Error("no second or third attempt")
	}
	if p.Attempt(fakeAttempt{3, ctx}) {
		t.Error("a fourth attempt")
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if p.Attempt(fakeAttempt{1, done}) {
		t.Error("a retry after the request's context ended")
	}
	if !cl.DefaultIdempotence {
		t.Error("statements are not idempotent by default")
	}
}
