package cassandra

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

func TestBucketOf(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want int
	}{
		{time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), 202503},
		{time.Date(2025, 2, 28, 23, 59, 59, 999e6, time.UTC), 202502},
		{time.Date(2024, 12, 31, 23, 59, 59, 999e6, time.UTC), 202412},
		// Buckets are UTC months: 00:30 on 1 March in Paris is still February.
		{time.Date(2025, 3, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)), 202502},
	} {
		if got := BucketOf(c.t); got != c.want {
			t.Errorf("BucketOf(%v) = %d, want %d", c.t, got, c.want)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	at := time.Date(2025, 3, 14, 9, 26, 53, 589e6, time.UTC)
	p := position{bucket: BucketOf(at), time: at, id: uuid.New()}
	got, err := decodeCursor(encodeCursor(p))
	if err != nil {
		t.Fatal(err)
	}
	if got.bucket != p.bucket || !got.time.Equal(p.time) || got.id != p.id {
		t.Fatalf("round trip: got %+v, want %+v", got, p)
	}
}

func TestCursorRejectsTampering(t *testing.T) {
	at := time.Date(2025, 3, 14, 9, 26, 53, 589e6, time.UTC)
	good := encodeCursor(position{bucket: BucketOf(at), time: at, id: uuid.New()})
	raw, _ := base64.RawURLEncoding.DecodeString(good)

	wrongBucket := append([]byte(nil), raw...)
	wrongBucket[4]++ // bucket no longer matches the time
	wrongVersion := append([]byte(nil), raw...)
	wrongVersion[0] = 9
	for name, c := range map[string]string{
		"wrong bucket":  base64.RawURLEncoding.EncodeToString(wrongBucket),
		"wrong version": base64.RawURLEncoding.EncodeToString(wrongVersion),
		"too short":     good[:10],
		"padded":        good + "==",
		"not base64":    "***",
	} {
		if _, err := decodeCursor(c); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("%s: decodeCursor = %v, want EINVALID", name, err)
		}
	}
}

func TestSplitCQL(t *testing.T) {
	got := splitCQL("-- header\nCREATE TABLE a (\n  x int, -- note\n  PRIMARY KEY (x)\n);\n\nCREATE TABLE b (y int PRIMARY KEY);\n")
	want := []string{"CREATE TABLE a (\nx int,\nPRIMARY KEY (x)\n)", "CREATE TABLE b (y int PRIMARY KEY)"}
	if len(got) != len(want) {
		t.Fatalf("got %d statements %q, want %q", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("statement %d = %q, want %q", i, got[i], want[i])
		}
	}
	ms, err := loadMigrations()
	if err != nil || len(ms) == 0 || ms[0].version != 1 {
		t.Fatalf("embedded migrations: %v, %+v", err, ms)
	}
}
