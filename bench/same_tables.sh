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
set -euo pipefail
cd "$(dirname "$0")/.."
OLD="$(realpath "${1:?usage: bench/same_tables.sh OLD_BINARY NEW_BINARY [ACCOUNTS]}")"
NEW="$(realpath "${2:?usage: bench/same_tables.sh OLD_BINARY NEW_BINARY [ACCOUNTS]}")"
ACCOUNTS="${3:-100000}"
python3 -c "import pyarrow" 2>/dev/null ||
  python3 -m pip install --quiet --disable-pip-version-check 'pyarrow>=14'
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
  python3 - "$old_partition" "$new_partition" <<'PY' || status=1
import json, os, sys
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

old_dir, new_dir = sys.argv[1], sys.argv[2]
names = sorted(f for f in os.listdir(old_dir) if f.endswith(".parquet"))
assert names == sorted(f for f in os.listdir(new_dir) if f.endswith(".parquet")), "different files"
failed = False

def bits(column):
    """Float columns as their IEEE bit patterns (NaN, -0.0 and nulls distinct)."""
    values = column.combine_chunks()
    data = np.asarray(values.fill_null(0.0).to_numpy(zero_copy_only=False), dtype=np.float64)
    return data.view(np.int64), np.asarray(values.is_null().to_numpy(zero_copy_only=False))

for name in names:
    old = pq.read_table(os.path.join(old_dir, name))
    new = pq.read_table(os.path.join(new_dir, name))
    problems = []
    if old.schema != new.schema:
        problems.append(f"schema differs:\n{old.schema}\nvs\n{new.schema}")
    elif old.num_rows != new.num_rows:
        problems.append(f"{old.num_rows} rows vs {new.num_rows}")
    else:
        for field in old.schema:
            if field.name == "run_id":
                continue
            a, b = old[field.name], new[field.name]
            if pa.types.is_floating(field.type):
                (ab, an), (bb, bn) = bits(a), bits(b)
                same = np.array_equal(ab, bb) and np.array_equal(an, bn)
            else:
                same = a.equals(b)
            if not same:
                problems.append(f"column `{field.name}` differs")
    print(f"  {name}: {old.num_rows} rows, {'identical' if not problems else 'DIFFERENT'}", file=sys.stderr)
    for p in problems:
        print(f"    {p}", file=sys.stderr)
    failed |= bool(problems)

def manifest(path):
    m = json.load(open(os.path.join(path, "_manifest.json")))
    for key in ("run_id", "started_at", "timings"):
        m.pop(key, None)
    if isinstance(m.get("activity"), dict):
        m["activity"].pop("seconds", None)
    # The files hold the run id, so their bytes and checksums always differ;
    # their rows are compared.
    for entry in (m.get("outputs") or {}).values() if isinstance(m.get("outputs"), dict) else m.get("outputs") or []:
        if isinstance(entry, dict):
            entry.pop("bytes", None)
            entry.pop("sha256", None)
    return m

if manifest(old_dir) != manifest(new_dir):
    a, b = manifest(old_dir), manifest(new_dir)
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    print(f"  _manifest.json: DIFFERENT in {keys} (beyond run_id, started_at, timings)", file=sys.stderr)
    failed = True
else:
    print("  _manifest.json: identical (beyond run_id, started_at, timings)", file=sys.stderr)
sys.exit(1 if failed else 0)
PY
done
if [ "$status" = 0 ]; then echo "same tables: every table identical but run_id" >&2; else echo "same tables: DIFFERENCES found" >&2; fi
exit "$status"
