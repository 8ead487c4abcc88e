#!/usr/bin/env python3
"""How honest is the lift? Coverage and false-positive rates over many seeds.

    python3 bench/adjust_coverage.py [--seeds 100] [--accounts 20000] [--out FILE]

Not part of `cargo test` (it takes about 10 minutes). For each seed it
generates two datasets with the same confounding by plan (training intent
25/40/55 %, churn hazard and tickets by plan):

- `effect`: the planted effects (GENERATOR.md), whose true effect on the
  trained (ATT) each dataset states in `truth.csv`;
- `null`: `--no-training-effect`, where training changes nothing (ATT 0).

and runs the four metrics the truth covers (churn_rate,
net_revenue_retention, support_incident_rate, nps), the lifetime value and
survival's restricted mean, broken down by plan, with `adjust` by
`stratify` on plan and by `propensity` on plan and region (5 strata). It
reports, per scenario, metric and method, how often the 95 % interval
covers the true ATT, how often p < 0.05, and the mean error of the
estimate (the lifetime value and the restricted mean have no truth column:
their ATT is known only where training does nothing, 0). A second table
reads the naive rows within each plan where training does nothing: plan
is the only confounder, so within a plan the true difference is 0 for
every metric, and the share of intervals covering 0 checks each metric's
variance rule by itself (the lifetime value is not adjusted, so this is
its only check). Needs the release binary (CARGO_TARGET_DIR as for the
build) and python3 with polars.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/cohort-metrics-target"))
BIN = TARGET / "release" / "cohort-metrics"
METRICS = ["churn_rate", "net_revenue_retention", "support_incident_rate", "nps"]
# Rows read: (metric, dimension) → the name shown.
ROWS = {
    ("churn_rate", None): "churn_rate",
    ("net_revenue_retention", None): "net_revenue_retention",
    ("support_incident_rate", None): "support_incident_rate",
    ("nps", None): "nps",
    ("customer_lifetime_value", None): "customer_lifetime_value",
    ("survival", "rmst_days=365"): "survival rmst_days=365",
}
METHODS = {
    "stratify": "{ method: stratify, covariates: [plan] }",
    "propensity": "{ method: propensity, covariates: [plan, region], strata: 5 }",
}
PIPELINE = """name: coverage
sources:
  accounts:      {{ path: data/accounts.csv }}
  training:      {{ path: data/training.parquet }}
  revenue:       {{ path: data/revenue.parquet }}
  nps_responses: {{ path: data/nps_responses.csv }}
  tickets:       {{ path: data/tickets.parquet }}
cohort: {{ window_days: 90, courses: [onboarding-101, admin-cert], min_courses: 1 }}
period: {{ as_of: 2026-11-01, months: 12 }}
segment_by: [plan]
metrics: [churn_rate, net_revenue_retention, support_incident_rate, nps, customer_lifetime_value, {{ survival: {{ at_days: [365] }} }}]
adjust: {adjust}
output: {{ path: out/{name} }}
"""


def true_att(data: Path) -> dict:
    """The ATT of each metric from truth.csv (trained cohort, both worlds)."""
    t = pl.read_csv(data / "truth.csv").filter(pl.col("cohort") == "trained")

    def ratio(num: str, den: str, frame: pl.DataFrame, scale: float = 1.0) -> float:
        return {
            w: scale * frame[f"{num}_if_{w}"].sum() / frame[f"{den}_if_{w}"].sum()
            for w in ("trained", "untrained")
        }

    churn = t.filter(pl.col("churned_if_trained").is_not_null())
    churn = churn.with_columns(
        pl.lit(1).alias("one_if_trained"), pl.lit(1).alias("one_if_untrained")
    )
    tickets = t.filter(pl.col("tickets_if_trained").is_not_null()).with_columns(
        pl.lit(1).alias("one_if_trained"), pl.lit(1).alias("one_if_untrained")
    )
    base = t.filter(pl.col("mrr_m0_if_trained") > 0)
    values = {
        "churn_rate": ratio("churned", "one", churn),
        "support_incident_rate": ratio("tickets", "one", tickets),
        "nps": ratio("nps_net", "nps_responses", t, 100.0),
        "net_revenue_retention": ratio("mrr_mk", "mrr_m0", base),
    }
    return {m: v["trained"] - v["untrained"] for m, v in values.items()}


def covers(low, high, value) -> bool | None:
    if low is None or high is None or value is None:
        return None
    return low <= value <= high


def rejects(p) -> bool | None:
    return None if p is None else p < 0.05


def run_seed(work: Path, seed: int, accounts: int, scenario: str) -> tuple:
    data = work / "data"
    command = [str(BIN), "-q", "generate", "--accounts", str(accounts), "--seed", str(seed)]
    if scenario == "null":
        command.append("--no-training-effect")
    subprocess.run(command + ["--out", str(data)], check=True)
    att = true_att(data)
    rows, within = [], []
    for method, adjust in METHODS.items():
        pipeline = work / f"{method}.yaml"
        pipeline.write_text(PIPELINE.format(adjust=adjust, name=method))
        subprocess.run([str(BIN), "-q", "run", str(pipeline)], check=True)
        lift = pl.read_parquet(work / "out" / method / "as_of=2026-11-01" / "lift.parquet")
        for r in lift.iter_rows(named=True):
            name = ROWS.get((r["metric"], r["dimension"]))
            if name is None:
                continue
            truth = 0.0 if scenario == "null" else att.get(r["metric"])
            if r["segment"] is not None:
                if scenario == "null" and method == "stratify":
                    within.append(
                        {
                            "seed": seed,
                            "metric": name,
                            "covers": covers(r["diff_ci_low"], r["diff_ci_high"], 0.0),
                            "rejects": rejects(r["p_value"]),
                        }
                    )
                continue
            if truth is None:
                continue
            rows.append(
                {
                    "seed": seed,
                    "scenario": scenario,
                    "method": method,
                    "metric": name,
                    "att": truth,
                    "naive": r["abs_diff"],
                    "naive_covers": covers(r["diff_ci_low"], r["diff_ci_high"], truth),
                    "naive_rejects": rejects(r["p_value"]),
                    "adjusted": r["adjusted_abs_diff"],
                    "adjusted_covers": covers(r["adjusted_ci_low"], r["adjusted_ci_high"], truth),
                    "adjusted_rejects": rejects(r["adjusted_p_value"]),
                }
            )
        subprocess.run(["rm", "-rf", str(work / "out" / method)], check=True)
    return rows, within


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument(
        "--rows", help="also write every row read (Parquet), to combine runs over other seeds"
    )
    parser.add_argument(
        "--combine", nargs="*", default=[], help="summarize these --rows files instead of running"
    )
    parser.add_argument("--accounts", type=int, default=20000)
    parser.add_argument("--out", default=str(ROOT / "bench/results/adjust_coverage.md"))
    args = parser.parse_args()
    if not BIN.exists():
        print(f"adjust_coverage: build first (cargo build --release): no {BIN}", file=sys.stderr)
        return 2
    rows, within = [], []
    if args.combine:
        frames = [pl.read_parquet(f) for f in args.combine]
        both = pl.concat(frames)
        rows = both.filter(pl.col("table") == "overall").drop("table", "covers", "rejects").to_dicts()
        within = both.filter(pl.col("table") == "within").select("metric", "covers", "rejects").to_dicts()
        seeds = both["seed"].n_unique()
        args.first_seed, args.seeds = int(both["seed"].min()), seeds
    with tempfile.TemporaryDirectory() as tmp:
        last = args.first_seed + args.seeds - 1
        for seed in ([] if args.combine else range(args.first_seed, last + 1)):
            for scenario in ("effect", "null"):
                found, inside = run_seed(Path(tmp), seed, args.accounts, scenario)
                rows += found
                within += inside
            if seed % 10 == 0:
                print(f"adjust_coverage: seed {seed} of {args.first_seed}–{last}", file=sys.stderr)
    df = pl.DataFrame(rows)
    if args.rows:
        pl.concat(
            [
                df.with_columns(
                    pl.lit("overall").alias("table"),
                    pl.lit(None, pl.Boolean).alias("covers"),
                    pl.lit(None, pl.Boolean).alias("rejects"),
                ),
                pl.DataFrame(within).with_columns(pl.lit("within").alias("table")),
            ],
            how="diagonal_relaxed",
        ).write_parquet(args.rows)
    summary = (
        df.group_by("scenario", "metric", "method")
        .agg(
            pl.col("att").mean().alias("mean true ATT"),
            (pl.col("naive") - pl.col("att")).mean().alias("naive mean error"),
            (pl.col("adjusted") - pl.col("att")).mean().alias("adjusted mean error"),
            (100 * pl.col("naive_covers").mean()).alias("naive CI covers %"),
            (100 * pl.col("adjusted_covers").mean()).alias("adjusted CI covers %"),
            (100 * pl.col("naive_rejects").mean()).alias("naive p<0.05 %"),
            (100 * pl.col("adjusted_rejects").mean()).alias("adjusted p<0.05 %"),
        )
        .sort("scenario", "metric", "method")
    )
    header = "| " + " | ".join(summary.columns) + " |"
    lines = [
        f"{args.seeds} seeds from {args.first_seed}, {args.accounts} accounts each "
        "(`python3 bench/adjust_coverage.py`).",
        "",
        header,
        "|" + "---|" * len(summary.columns),
    ]
    for r in summary.iter_rows():
        cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in r]
        lines.append("| " + " | ".join(cells) + " |")
    plans = (
        pl.DataFrame(within)
        .group_by("metric")
        .agg(
            pl.len().alias("rows (seeds × plans)"),
            (100 * pl.col("covers").mean()).alias("naive CI covers 0 %"),
            (100 * pl.col("rejects").mean()).alias("naive p<0.05 %"),
        )
        .sort("metric")
    )
    lines += [
        "",
        "Within each plan, where training does nothing (true difference 0):",
        "",
        "| " + " | ".join(plans.columns) + " |",
        "|" + "---|" * len(plans.columns),
    ]
    for r in plans.iter_rows():
        cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in r]
        lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
