#!/usr/bin/env bash
# Runs every fuzz target briefly (FUZZTIME, default 10s each), so that the
# parsers meet inputs nobody wrote down. Longer runs: raise FUZZTIME.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
status=0
while IFS=: read -r file _ line; do
  pkg=./$(dirname "$file")
  name=$(sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/' <<<"$line")
  echo "fuzz: $pkg $name for $fuzztime"
  # Go's fuzzing engine sometimes stalls its workers for seconds and, when
  # the stall meets the end of a timed run, reports "context deadline
  # exceeded" with no failing input (no request was slow: the stall is the
  # engine's). Such a run is done again bounded by a number of inputs
  # instead of a time, which has no deadline to miss. A real finding writes
  # its failing input and fails at once.
  budget=$fuzztime
  for try in 1 2; do
    out=$(go test -run='^$' -fuzz="^${name}\$" -fuzztime="$budget" "$pkg" 2>&1) && { echo "$out"; break; }
    echo "$out"
    if [[ $try == 1 && $out == *"context deadline exceeded"* && $out != *"Failing input written"* ]]; then
      budget=${FUZZEXECS:-20000x}
      echo "fuzz: $name: the engine stalled without a finding; again for $budget inputs"
      continue
    fi
    status=1
    break
  done
done < <(git grep --untracked -n -E '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' -- '*_test.go')
exit $status
