package postgres

// The lookup statements, so that benchmarks can time the same query issued
// directly with pgx.
const (
	ClientByHandleSQL = clientByHandleSQL
	ClientByEmailSQL  = clientByEmailSQL
)

// SetImportChunk makes imports work in chunks of n clients until the test
// ends, so that a small import exercises the hand-over between chunks. The
// test must not run in parallel with others.
func SetImportChunk(t interface{ Cleanup(func()) }, n int) {
	old := importChunk
	importChunk = n
	t.Cleanup(func() { importChunk = old })
}
