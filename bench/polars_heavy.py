"""The heavy (event) metrics of bench/pipeline.yaml in Python polars.

Usage: python3 bench/polars_heavy.py DATA_DIR OUT.parquet

The same engine as ours without our code: one lazy plan per metric over the
same files, collected together with the streaming engine. Covers
`active_user_rate` (user level, 1/7/30 days), `feature_adoption_rate`,
`key_action_rate` (user level) and `return_rate`, for the cohorts and plan
segments, written in the long layout of bench/duckdb_metrics.py so that
bench/compare.py checks the numbers against ours.
"""

import sys
from datetime import date, timedelta

import polars as pl

A = date(2026, 11, 1)
S = date(2025, 11, 1)
W = 90
COURSES = ["onboarding-101", "admin-cert"]


def cohort(landmark: pl.Expr, courses: pl.Expr) -> pl.Expr:
    """docs/METRICS.md#cohorts at R = S."""
    assigned = (
        (landmark <= S)
        & (pl.col("signup_date") < landmark)
        & (pl.col("churn_date").is_null() | (pl.col("churn_date") >= landmark))
    )
    return (
        pl.when(assigned)
        .then(pl.when(courses.fill_null(0) >= 1).then(pl.lit("trained")).otherwise(pl.lit("untrained")))
        .alias("cohort")
    )


def rates(frame: pl.LazyFrame, metric: str, hit: str, dims: list[str], ps: date, pe: date) -> pl.LazyFrame:
    """num = Σ hit, den = count, for cohorts trained/untrained/all × plan/all."""
    out = []
    for cohort_all in (False, True):
        for plan_all in (False, True):
            keys = dims + ([] if cohort_all else ["cohort"]) + ([] if plan_all else ["plan"])
            base = frame if cohort_all else frame.filter(pl.col("cohort").is_not_null())
            agg = base.group_by(keys).agg(
                pl.col(hit).cast(pl.Float64).sum().alias("num"), pl.len().cast(pl.Float64).alias("den")
            )
            out.append(
                agg.select(
                    pl.lit(metric).alias("metric"),
                    (pl.lit("all") if cohort_all else pl.col("cohort")).alias("cohort"),
                    (
                        pl.lit(None, pl.String)
                        if plan_all
                        else pl.lit("plan=") + pl.col("plan").fill_null("(null)")
                    ).alias("segment"),
                    (pl.col(dims[0]) if dims else pl.lit(None, pl.String)).cast(pl.String).alias("dimension"),
                    pl.lit(ps).alias("period_start"),
                    pl.lit(pe).alias("period_end"),
                    "num",
                    "den",
                    (pl.col("num") / pl.col("den")).alias("value"),
                )
            )
    return pl.concat(out)


def main() -> None:
    data, out = sys.argv[1], sys.argv[2]
    accounts = pl.scan_csv(f"{data}/accounts.csv", try_parse_dates=True).select(
        "account_id", "signup_date", "churn_date", "plan"
    )
    training = (
        pl.scan_parquet(f"{data}/training.parquet")
        .filter(pl.col("completed_at").is_not_null() & (pl.col("completed_at") < pl.lit(A).cast(pl.Datetime("us", "UTC"))))
        .filter(pl.col("course_id").is_in(COURSES))
        .with_columns(pl.col("completed_at").dt.date().alias("done"))
    )
    landmark = (pl.col("signup_date") + timedelta(days=W)).alias("lm")
    acc_courses = (
        training.join(accounts.with_columns(landmark).select("account_id", "lm"), on="account_id")
        .filter(pl.col("done") < pl.col("lm"))
        .group_by("account_id")
        .agg(pl.col("course_id").n_unique().alias("courses"))
    )
    in_period = (
        (pl.col("signup_date") < A)
        & (pl.col("churn_date").is_null() | (pl.col("churn_date") > S))
        & (pl.col("churn_date").is_null() | (pl.col("churn_date") > pl.col("signup_date")))
    )
    acc = (
        accounts.with_columns(landmark)
        .join(acc_courses, on="account_id", how="left")
        .with_columns(cohort(pl.col("lm"), pl.col("courses")), in_period.alias("in_period"))
    )
    customers = acc.filter("in_period").select("account_id", "plan", "cohort")
    users = pl.scan_csv(f"{data}/users.csv", try_parse_dates=True).join(
        acc.select("account_id", "signup_date", "churn_date", "plan", "in_period"), on="account_id"
    )
    ulm = (pl.col("created_at").fill_null(pl.col("signup_date")) + timedelta(days=W)).alias("lm")
    user_courses = (
        training.filter(pl.col("user_id").is_not_null())
        .join(users.with_columns(ulm).select("user_id", "lm"), on="user_id")
        .filter(pl.col("done") < pl.col("lm"))
        .group_by("user_id")
        .agg(pl.col("course_id").n_unique().alias("courses"))
    )
    population = (
        users.with_columns(ulm)
        .join(user_courses, on="user_id", how="left")
        .with_columns(cohort(pl.col("lm"), pl.col("courses")))
        .filter(pl.col("in_period") & (pl.col("created_at").is_null() | (pl.col("created_at") < A)))
        .select("user_id", "plan", "cohort")
    )
    events = (
        pl.scan_parquet(f"{data}/events/*.parquet")
        .with_columns(pl.col("event_time").dt.date().alias("day"))
        .filter((pl.col("day") >= S) & (pl.col("day") < A))
        .select("account_id", "user_id", "day", "event_name")
    )
    plans = []
    for days in (1, 7, 30):
        active = events.filter(pl.col("day") >= A - timedelta(days=days)).select("user_id").unique()
        frame = population.join(active.with_columns(pl.lit(True).alias("hit")), on="user_id", how="left")
        frame = frame.with_columns(pl.col("hit").fill_null(False))
        plans.append(rates(frame, "active_user_rate", "hit", [], A - timedelta(days=days), A)
                     .with_columns(pl.lit(f"window={days}d").alias("dimension")))
    names = events.select("event_name").unique()
    used = events.select("account_id", "event_name").unique().with_columns(pl.lit(True).alias("hit"))
    frame = (
        customers.join(names, how="cross")
        .join(used, on=["account_id", "event_name"], how="left")
        .with_columns(pl.col("hit").fill_null(False))
    )
    plans.append(rates(frame, "feature_adoption_rate", "hit", ["event_name"], S, A))
    did = events.filter(pl.col("event_name") == "report_created").select("user_id").unique()
    frame = population.join(did.with_columns(pl.lit(True).alias("hit")), on="user_id", how="left")
    plans.append(rates(frame.with_columns(pl.col("hit").fill_null(False)), "key_action_rate", "hit", [], S, A))
    days = (
        events.filter(pl.col("day") >= A - timedelta(days=28))
        .group_by("account_id")
        .agg(pl.col("day").n_unique().alias("d"))
    )
    frame = customers.join(days, on="account_id", how="left").with_columns(
        (pl.col("d").fill_null(0) >= 4).alias("hit")
    )
    plans.append(rates(frame, "return_rate", "hit", [], A - timedelta(days=28), A))
    frames = pl.collect_all(plans, engine="streaming")
    pl.concat(frames).write_parquet(out)


if __name__ == "__main__":
    main()
