package ratelog

import (
	"testing"
	"time"
)

func TestOneLinePerInterval(t *testing.T) {
	now := time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC)
	l := New(10*time.Second, func() time.Time { return now })
	if ok, n := l.Allow(); !ok || n != 0 {
		t.Fatalf("first event: %v %d, want logged", ok, n)
	}
	for range 5 {
		now = now.Add(time.Second)
		if ok, _ := l.Allow(); ok {
			t.Fatal("an event within the interval was logged")
		}
	}
	now = now.Add(5 * time.Second)
	if ok, n := l.Allow(); !ok || n != 5 {
		t.Fatalf("after the interval: %v %d, want logged with 5 held back", ok, n)
	}
	if ok, _ := l.Allow(); ok {
		t.Fatal("the interval did not start again")
	}
}
