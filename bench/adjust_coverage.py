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
net_revenue_retention, support_incident_rate, nps) with `adjust` by
`stratify` on plan and by `propensity` on plan and region (5 strata). It
reports, per scenario, metric and method, how often the 95 % interval
covers the true ATT, how often p < 0.05, and the mean error of the
estimate. Needs the release binary (CARGO_TARGET_DIR as for the build) and
python3 with polars.
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
metrics: [churn_rate, net_revenue_retention, support_incident_rate, nps]
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


def run_seed(work: Path, seed: int, accounts: int, scenario: str) -> list:
    data = work / "data"
    command = [str(BIN), "-q", "generate", "--accounts", str(accounts), "--seed", str(seed)]
    if scenario == "null":
        command.append("--no-training-effect")
    subprocess.run(command + ["--out", str(data)], check=True)
    att = true_att(data)
    rows = []
    for method, adjust in METHODS.items():
        pipeline = work / f"{method}.yaml"
        pipeline.write_text(PIPELINE.format(adjust=adjust, name=method))
        subprocess.run([str(BIN), "-q", "run", str(pipeline)], check=True)
        lift = pl.read_parquet(work / "out" / method / "as_of=2026-11-01" / "lift.parquet")
        lift = lift.filter(pl.col("segment").is_null() & pl.col("dimension").is_null())
        for r in lift.iter_rows(named=True):
            truth = att[r["metric"]]
            rows.append(
                {
                    "seed": seed,
                    "scenario": scenario,
                    "method": method,
                    "metric": r["metric"],
                    "att": truth,
                    "naive": r["abs_diff"],
                    "naive_covers": r["diff_ci_low"] <= truth <= r["diff_ci_high"],
                    "naive_rejects": r["p_value"] < 0.05,
                    "adjusted": r["adjusted_abs_diff"],
                    "adjusted_covers": r["adjusted_ci_low"] <= truth <= r["adjusted_ci_high"],
                    "adjusted_rejects": r["adjusted_p_value"] < 0.05,
                }
            )
        subprocess.run(["rm", "-rf", str(work / "out" / method)], check=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--accounts", type=int, default=20000)
    parser.add_argument("--out", default=str(ROOT / "bench/results/adjust_coverage.md"))
    args = parser.parse_args()
    if not BIN.exists():
        print(f"adjust_coverage: build first (cargo build --release): no {BIN}", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(1, args.seeds + 1):
            for scenario in ("effect", "null"):
                rows += run_seed(Path(tmp), seed, args.accounts, scenario)
            if seed % 10 == 0:
                print(f"adjust_coverage: {seed} of {args.seeds} seeds", file=sys.stderr)
    df = pl.DataFrame(rows)
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
        f"Seeds 1–{args.seeds}, {args.accounts} accounts each "
        "(`python3 bench/adjust_coverage.py`).",
        "",
        header,
        "|" + "---|" * len(summary.columns),
    ]
    for r in summary.iter_rows():
        cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in r]
        lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
