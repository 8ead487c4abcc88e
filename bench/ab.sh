#!/usr/bin/env bash
# Two builds of cohort-metrics on the same data, alternating run by run (the
# machine's speed drifts by 15-25 % between minutes, so back-to-back pairs
# compare better than two series): wall seconds and peak RSS from
# /usr/bin/time, each stage's wall and CPU seconds from the manifest, medians
# of RUNS pairs; then checks that both wrote the same tables.
#
#   bench/ab.sh OLD_BINARY NEW_BINARY DATA_DIR [RUNS]
#
# DATA_DIR is a `cohort-metrics generate` directory (bench/run.sh keeps them
# under bench/data/SCALE); the pipeline is bench/pipeline.yaml. Copy the old
# binary aside before building the new one. SAME_REL_TOL as in
# bench/same_tables.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { sed -n 2,12p "$0" >&2; exit 2; }
OLD="$1"; NEW="$2"; DATA="$(cd "$3" && pwd)"; RUNS="${4:-3}"
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is required (apt-get install time)" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
for run in $(seq "$RUNS"); do
  for side in old new; do
    bin="$OLD"; [ "$side" = new ] && bin="$NEW"
    rm -rf "$WORK/$side"
    BENCH_DATA="$DATA" BENCH_OUT="$WORK/$side" /usr/bin/time -f "%e %M" -o "$WORK/time" \
      "$bin" -q run bench/pipeline.yaml 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
    python3 - "$side" "$(cat "$WORK/time")" "$WORK/$side/as_of=2026-11-01/_manifest.json" >>"$WORK/runs" <<'PY'
import json, sys
side, wall, rss, path = sys.argv[1], *sys.argv[2].split(), sys.argv[3]
m = json.load(open(path))
stages = dict(m["timings"])
cpu = {r["stage"]: r["cpu_seconds"] for r in m.get("resources", [])}
print(json.dumps({"side": side, "wall": float(wall), "rss": int(rss) * 1024,
                  "stages": {s: [w, cpu.get(s)] for s, w in stages.items()}}))
PY
    echo "bench: run $run $side: $(cut -d' ' -f1 "$WORK/time") s" >&2
  done
done
python3 - "$WORK/runs" "$RUNS" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
side = {s: [r for r in runs if r["side"] == s] for s in ("old", "new")}
med = lambda xs: statistics.median(xs) if xs else float("nan")
print(f"| | old | new | new / old |")
print("|---|---:|---:|---:|")
o, n = med([r["wall"] for r in side["old"]]), med([r["wall"] for r in side["new"]])
print(f"| wall s (median of {sys.argv[2]}) | {o:.2f} | {n:.2f} | {n / o:.2f} |")
o, n = max(r["rss"] for r in side["old"]) / 2**30, max(r["rss"] for r in side["new"]) / 2**30
print(f"| peak RSS GiB | {o:.2f} | {n:.2f} | {n / o:.2f} |")
for stage in side["new"][0]["stages"]:
    for k, label in ((0, "wall"), (1, "CPU")):
        vals = {s: [r["stages"].get(stage, [None, None])[k] for r in side[s]] for s in side}
        if any(v is None for vs in vals.values() for v in vs):
            continue
        o, n = med(vals["old"]), med(vals["new"])
        if max(o, n) >= 0.05:
            print(f"| {stage} {label} s | {o:.2f} | {n:.2f} | {n / o if o else float('nan'):.2f} |")
PY
python3 bench/same_partition.py "$WORK/old/as_of=2026-11-01" "$WORK/new/as_of=2026-11-01" --tables-only ${SAME_REL_TOL:+--rel-tol=$SAME_REL_TOL} >&2
