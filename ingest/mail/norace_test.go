//go:build !race

package mail_test

const raceSlowdown = 1
