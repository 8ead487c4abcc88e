"""Compares two published partitions: every column of every table bit for
bit, except `run_id`; and, unless --tables-only, the manifests except their
run id, times and timings, and `report.html` byte for byte once each page's
run id and start time are blanked (the lines that differ are printed).
Exit 0 when identical.

    python3 bench/same_partition.py OLD_PARTITION NEW_PARTITION [--tables-only] [--rel-tol=X]

With --rel-tol, a float column whose bits differ passes when its nulls and
NaNs are in the same rows and every other value is within X relative
(|a - b| <= X * max(|a|, |b|)); the largest relative difference is printed.
For a change that adds the same terms in another order (docs/BENCHMARKS.md
says which).

Used by bench/same_tables.sh (two builds) and bench/nightly.sh (a run with
an activity store against a full run).
"""
import json, os, sys
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

args = [a for a in sys.argv[1:] if not a.startswith("--")]
tables_only = "--tables-only" in sys.argv
rel_tol = next((float(a.split("=", 1)[1]) for a in sys.argv[1:] if a.startswith("--rel-tol=")), None)
old_dir, new_dir = args
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
                if not same and rel_tol is not None and np.array_equal(an, bn):
                    x, y = ab.view(np.float64), bb.view(np.float64)
                    nan = np.isnan(x)
                    if np.array_equal(nan, np.isnan(y)):
                        ok = ~an & ~nan
                        scale = np.maximum(np.abs(x[ok]), np.abs(y[ok]))
                        diff = np.abs(x[ok] - y[ok])
                        rel = np.where(scale > 0, diff / np.where(scale > 0, scale, 1), 0)
                        worst = float(rel.max()) if rel.size else 0.0
                        same = worst <= rel_tol
                        print(f"    column `{field.name}`: largest relative difference {worst:.3g}", file=sys.stderr)
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
    for key in ("run_id", "started_at", "timings", "resources"):
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

def report(path):
    """report.html with its run id and start time blanked, as lines."""
    file = os.path.join(path, "report.html")
    if not os.path.exists(file):
        return None
    m = json.load(open(os.path.join(path, "_manifest.json")))
    text = open(file, encoding="utf-8").read()
    for key in ("run_id", "started_at"):
        if m.get(key):
            text = text.replace(str(m[key]), f"<{key}>")
    return text.split(">")

if not tables_only:
    a, b = report(old_dir), report(new_dir)
    if a == b:
        print(f"  report.html: {'identical (beyond run id and start time)' if a is not None else 'in neither'}", file=sys.stderr)
    else:
        import difflib
        print("  report.html: DIFFERENT:", file=sys.stderr)
        for line in list(difflib.unified_diff(a or [], b or [], lineterm="", n=0))[2:40]:
            print(f"    {line}", file=sys.stderr)
        failed = True

if tables_only:
    pass
elif manifest(old_dir) != manifest(new_dir):
    a, b = manifest(old_dir), manifest(new_dir)
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    print(f"  _manifest.json: DIFFERENT in {keys} (beyond run_id, started_at, timings, resources)", file=sys.stderr)
    failed = True
else:
    print("  _manifest.json: identical (beyond run_id, started_at, timings, resources)", file=sys.stderr)
sys.exit(1 if failed else 0)
