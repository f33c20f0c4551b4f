#!/usr/bin/env bash
# Runs the whole test suite with the clock moved to each DATE given, to show that no test
# depends on the day it runs. Only the test binaries (and natcost and moto, which they start)
# see the moved clock, through libfaketime (`apt-get install faketime`); cargo and rustc run at
# the real time (rustc under libfaketime can hang).
#
#   bash scripts/test_dates.sh '2027-01-01 00:20:00' '2027-01-31 23:30:00' '2027-03-01 00:20:00'
set -euo pipefail
if [ "${1:-}" = "--run" ]; then
  shift
  exec faketime -f "@$NATCOST_TEST_NOW" "$@"
fi
cd "$(dirname "$0")/.."
command -v faketime >/dev/null || { echo "faketime not found: apt-get install faketime" >&2; exit 1; }
[ $# -gt 0 ] || { echo "usage: $0 'YYYY-MM-DD hh:mm:ss' ..." >&2; exit 2; }
host=$(rustc -vV | sed -n 's/^host: //p' | tr 'a-z-' 'A-Z_')
bash scripts/test.sh --locked --no-run
for now in "$@"; do
  echo "== the suite at $now UTC" >&2
  env NATCOST_TEST_NOW="$now" "CARGO_TARGET_${host}_RUNNER=bash $PWD/scripts/test_dates.sh --run" \
    bash scripts/test.sh --locked --no-fail-fast
done
