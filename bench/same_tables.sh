#!/usr/bin/env bash
# Checks that two builds of cohort-metrics write the same tables: every
# column of every table bit for bit, except `run_id` (and the manifest except
# its run id, times and timings). Used to prove that a refactoring changes no
# number (not part of `cargo test`).
#
#   bench/same_tables.sh OLD_BINARY NEW_BINARY [ACCOUNTS]
#
# Runs both binaries on the bundled sample pipeline and on the benchmark
# pipeline over ACCOUNTS generated accounts (default 100000; generated once
# by OLD_BINARY into bench/data/same-ACCOUNTS), then compares the partitions
# with pyarrow (installed from PyPI when missing). Exit 0 when identical.
# SAME_REL_TOL=X accepts float columns within X relative instead of bit for
# bit (bench/same_partition.py --rel-tol), for a change that adds the same
# terms in another order.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD="$(realpath "${1:?usage: bench/same_tables.sh OLD_BINARY NEW_BINARY [ACCOUNTS]}")"
NEW="$(realpath "${2:?usage: bench/same_tables.sh OLD_BINARY NEW_BINARY [ACCOUNTS]}")"
ACCOUNTS="${3:-100000}"
python3 -c "import pyarrow, numpy" 2>/dev/null ||
  python3 -m pip install --quiet --disable-pip-version-check 'pyarrow>=14' numpy
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

DATA="bench/data/same-$ACCOUNTS"
if [ ! -f "$DATA/accounts.csv" ]; then
  echo "generating $ACCOUNTS accounts into $DATA" >&2
  "$OLD" -q generate --out "$DATA" --accounts "$ACCOUNTS" --seed 42
fi

status=0
for case in sample generated; do
  for side in old new; do
    bin="$OLD"; [ "$side" = new ] && bin="$NEW"
    out="$WORK/$case-$side"
    if [ "$case" = sample ]; then
      "$bin" -q run pipelines/education_impact.yaml --output "$out"
    else
      BENCH_DATA="$(realpath "$DATA")" BENCH_OUT="$WORK/bench-out" "$bin" -q run bench/pipeline.yaml --output "$out"
    fi
  done
  old_partition="$(ls -d "$WORK/$case-old"/as_of=*)"
  new_partition="$WORK/$case-new/$(basename "$old_partition")"
  echo "== $case: $old_partition vs $new_partition" >&2
  python3 bench/same_partition.py "$old_partition" "$new_partition" ${SAME_REL_TOL:+--rel-tol=$SAME_REL_TOL} || status=1
done
if [ "$status" = 0 ]; then echo "same tables: every table identical but run_id" >&2; else echo "same tables: DIFFERENCES found" >&2; fi
exit "$status"
