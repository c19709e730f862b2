//go:build race

package mail_test

// The race detector slows byte-by-byte parsing tenfold or more.
const raceSlowdown = 10
