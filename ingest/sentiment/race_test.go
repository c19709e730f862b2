//go:build race

package sentiment_test

// raceEnabled: the race detector slows code five- to tenfold, so timing
// budgets are not checked and the slow regeneration test is skipped.
const raceEnabled = true
