#!/usr/bin/env bash
# Benchmark harness (not part of `cargo test`): see docs/BENCHMARKS.md.
#
#   bench/run.sh [SCALE...]       SCALE: S (10k accounts), M (100k), L (1M),
#                                 XL (1M, 10 x the events: about a billion); default S M L
#
# Environment: RUNS (default 3) runs per contender, the median is reported;
# BENCH_DATA_ROOT (default bench/data) where the generated data is kept
# (generated once per scale and reused); CARGO_TARGET_DIR as for the build.
#
# For each scale it generates the data (timed separately), checks that the
# numbers of every contender agree with ours (bench/compare.py), then times
# every contender RUNS times with /usr/bin/time (wall time and peak RSS), and
# writes bench/results/SCALE.tsv and a markdown table to stdout, then our
# run's stages (wall and CPU seconds, peak RSS, from its manifest's
# `resources`; bench/results/SCALE-stages.tsv).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"
DATA_ROOT="${BENCH_DATA_ROOT:-bench/data}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cohort-metrics-target}"
SCALES=("$@")
[ ${#SCALES[@]} -gt 0 ] || SCALES=(S M L)

[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is required (apt-get install time)" >&2; exit 1; }
python3 -c "import duckdb, polars" 2>/dev/null ||
  python3 -m pip install --quiet --disable-pip-version-check 'duckdb>=1.1' 'polars>=1.20'
cargo build --release --quiet
BIN="$CARGO_TARGET_DIR/release/cohort-metrics"
mkdir -p bench/results "$DATA_ROOT"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

accounts_of() {
  case "$1" in
    S) echo 10000 ;;
    M) echo 100000 ;;
    L | XL) echo 1000000 ;;
    *) echo "bench: unknown scale $1 (S, M, L or XL)" >&2; exit 2 ;;
  esac
}

# Events per active day, as a multiple of the usual 1-4.
event_factor_of() {
  case "$1" in
    XL) echo 10 ;;
    *) echo 1 ;;
  esac
}

# measure NAME COMMAND...: one timed run; appends "NAME seconds max_rss_kb".
measure() {
  local name="$1"
  shift
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err" || {
    echo "bench: $name failed:" >&2
    cat "$WORK/err" >&2
    exit 1
  }
  echo "$name $(cat "$WORK/time")" >>"$RESULTS"
}

for scale in "${SCALES[@]}"; do
  accounts="$(accounts_of "$scale")"
  data="$DATA_ROOT/$scale"
  RESULTS="bench/results/$scale.tsv"
  STAGES="bench/results/$scale-stages.tsv"
  : >"$RESULTS"
  : >"$STAGES"
  if [ ! -f "$data/GENERATOR.md" ]; then
    echo "bench: generating $scale ($accounts accounts) into $data" >&2
    rm -rf "$data"
    measure generate "$BIN" -q generate --accounts "$accounts" \
      --event-factor "$(event_factor_of "$scale")" --out "$data"
  fi
  events_rows="$(python3 -c "import polars as pl, sys; print(pl.scan_parquet(sys.argv[1] + '/events/*.parquet').select(pl.len()).collect().item())" "$data")"
  export BENCH_DATA="$(cd "$data" && pwd)"

  echo "bench: $scale: checking that the contenders agree with our numbers" >&2
  BENCH_OUT="$WORK/ours" "$BIN" -q run bench/pipeline.yaml
  python3 bench/duckdb_metrics.py "$data" "$WORK/duckdb.parquet"
  python3 bench/compare.py "$WORK/ours/as_of=2026-11-01" "$WORK/duckdb.parquet" >&2
  python3 bench/polars_heavy.py "$data" "$WORK/polars.parquet"
  python3 bench/compare.py "$WORK/ours/as_of=2026-11-01" "$WORK/polars.parquet" >&2

  for run in $(seq "$RUNS"); do
    echo "bench: $scale: run $run of $RUNS" >&2
    rm -rf "$WORK/ours" "$WORK/heavy"
    BENCH_OUT="$WORK/ours" measure ours "$BIN" -q run bench/pipeline.yaml
    # Per stage: wall and CPU seconds and peak memory from the manifest.
    python3 - "$WORK/ours/as_of=2026-11-01/_manifest.json" >>"$STAGES" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
wall = dict(m["timings"])
for r in m.get("resources", []):
    print(r["stage"], wall[r["stage"]], r["cpu_seconds"], r["peak_rss_bytes"], r["process_peak_rss_bytes"])
EOF
    measure duckdb python3 bench/duckdb_metrics.py "$data" "$WORK/duckdb.parquet"
    BENCH_OUT="$WORK/heavy" measure ours_events "$BIN" -q run bench/pipeline_heavy.yaml
    measure polars_events python3 bench/polars_heavy.py "$data" "$WORK/polars.parquet"
    measure floor_duckdb python3 bench/floor.py duckdb "$data"
    measure floor_polars python3 bench/floor.py polars "$data"
  done

  python3 - "$RESULTS" "$scale" "$accounts" "$events_rows" <<'EOF'
import statistics, sys
path, scale, accounts, events = sys.argv[1:]
runs = {}
for line in open(path):
    name, seconds, rss = line.split()
    runs.setdefault(name, []).append((float(seconds), int(rss)))
med = {k: statistics.median(s for s, _ in v) for k, v in runs.items()}
rss = {k: max(r for _, r in v) / 1024 / 1024 for k, v in runs.items()}
floor = min(med["floor_duckdb"], med["floor_polars"])
print(f"\n### {scale}: {int(accounts):,} accounts, {int(events):,} events\n")
if "generate" in med:
    print(f"Generation: {med['generate']:.1f} s, peak RSS {rss['generate']:.2f} GiB.\n")
print("| contender | wall s (median of %d) | peak RSS GiB | / DuckDB | / floor |" % len(runs["ours"]))
print("|---|---:|---:|---:|---:|")
labels = {
    "ours": "cohort-metrics, full pipeline (27 metrics)",
    "duckdb": "DuckDB SQL (22 of the 27 metrics)",
    "ours_events": "cohort-metrics, 4 event metrics",
    "polars_events": "Python polars, the same 4 event metrics",
    "floor_duckdb": "floor: scan needed columns (DuckDB)",
    "floor_polars": "floor: scan needed columns (polars)",
}
for key, label in labels.items():
    if key in med:
        print(f"| {label} | {med[key]:.2f} | {rss[key]:.2f} | {med[key] / med['duckdb']:.2f} | {med[key] / floor:.2f} |")
EOF
  python3 - "$STAGES" <<'EOF'
import statistics, sys
stages = {}
for line in open(sys.argv[1]):
    stage, wall, cpu, rss, process = line.split()
    stages.setdefault(stage, []).append((float(wall), float(cpu), int(rss), int(process)))
if stages:
    print("\nPer stage of cohort-metrics, full pipeline (medians; peak RSS the largest):\n")
    print("| stage | wall s | CPU s | CPU / wall | peak RSS GiB (sampled) | process peak GiB at its end |")
    print("|---|---:|---:|---:|---:|---:|")
    for stage, runs in stages.items():
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        rss = max(r[2] for r in runs) / 2**30
        process = max(r[3] for r in runs) / 2**30
        print(f"| {stage} | {wall:.2f} | {cpu:.2f} | {cpu / wall if wall else 0:.2f} | {rss:.2f} | {process:.2f} |")
EOF
done
