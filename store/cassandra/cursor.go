package cassandra

import (
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/google/uuid"

	"github.com/brokersync/brokersync/store"
)

// Buckets are calendar months in UTC, written year*100+month (202503): a
// client with 100,000 events over three years has ~2,800 per month, a few MB
// per partition, well under the ~100 MB where Cassandra partitions start to
// hurt, and the newest page is usually one partition read. Days would spread a
// quiet client over hundreds of tiny partitions (one read each); years would
// grow a busy client's partition past 30,000 rows with 4,000-rune bodies.
// Changing the bucket size means rewriting every row, so it is fixed here.

// BucketOf returns the bucket of an event time.
func BucketOf(t time.Time) int {
	t = t.UTC()
	return t.Year()*100 + int(t.Month())
}

// Times outside these years are rejected: they are data errors, and keeping
// them out keeps buckets four-digit years.
const (
	minYear = 1
	maxYear = 9999
)

var (
	minBucket = minYear*100 + 1
	maxBucket = maxYear*100 + 12
)

func checkTime(t time.Time) error {
	if y := t.UTC().Year(); y < minYear || y > maxYear {
		return store.Invalid("time", "%s is outside years %d-%d", t.Format(time.RFC3339), minYear, maxYear)
	}
	return nil
}

// position is where a page ended: the last event returned. The next page
// starts strictly after it in (time DESC, id DESC) order.
type position struct {
	bucket int
	time   time.Time
	id     uuid.UUID
}

const (
	cursorVersion = 1
	cursorLen     = 1 + 4 + 8 + 16 // version, bucket, unix ms, id
)

// encodeCursor makes the opaque cursor: base64url of version, bucket, time
// in unix milliseconds and id. The bucket is redundant with the time; it is
// kept so that a tampered or foreign cursor is caught by the cross-check.
func encodeCursor(p position) string {
	b := make([]byte, 0, cursorLen)
	b = append(b, cursorVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(int32(p.bucket)))
	b = binary.BigEndian.AppendUint64(b, uint64(p.time.UnixMilli()))
	b = append(b, p.id[:]...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (position, error) {
	bad := store.Invalid("cursor", "not a cursor from this timeline; start again from the first page")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != cursorLen || b[0] != cursorVersion {
		return position{}, bad
	}
	p := position{
		bucket: int(int32(binary.BigEndian.Uint32(b[1:5]))),
		time:   time.UnixMilli(int64(binary.BigEndian.Uint64(b[5:13]))).UTC(),
	}
	copy(p.id[:], b[13:])
	if checkTime(p.time) != nil || BucketOf(p.time) != p.bucket {
		return position{}, bad
	}
	return p, nil
}
