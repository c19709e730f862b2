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
  # On a loaded machine Go's fuzzing engine sometimes stalls its workers
  # at the end of the run and reports "context deadline exceeded" without
  # any failing input: that run is tried once more. A real finding writes
  # its failing input and fails.
  for try in 1 2; do
    out=$(go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" "$pkg" 2>&1) && { echo "$out"; break; }
    echo "$out"
    if [[ $try == 1 && $out == *"context deadline exceeded"* && $out != *"Failing input written"* ]]; then
      echo "fuzz: $name: the engine stalled without a finding; once more"
      continue
    fi
    status=1
    break
  done
done < <(git grep --untracked -n -E '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' -- '*_test.go')
exit $status
