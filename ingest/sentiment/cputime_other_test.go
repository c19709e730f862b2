//go:build !unix

package sentiment_test

import "time"

func cpuTime() (time.Duration, bool) { return 0, false }
