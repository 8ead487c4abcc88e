"""Checks our `metrics` table against the DuckDB SQL of the same metrics.

Usage: python3 bench/compare.py OUR_PARTITION DUCKDB.parquet
Prints every row where numerator, denominator or value differ (relative
tolerance 1e-9) and the metrics each side has that the other lacks; exits 1
on any difference.
"""

import sys

import polars as pl

KEY = ["metric", "cohort", "segment", "dimension", "period_start", "period_end"]


def main() -> int:
    ours = pl.read_parquet(f"{sys.argv[1]}/metrics.parquet").select(
        *KEY, pl.col("numerator").alias("num"), pl.col("denominator").alias("den"), "value"
    )
    sql = pl.read_parquet(sys.argv[2])
    covered = sql["metric"].unique()
    ours_covered = ours.filter(pl.col("metric").is_in(covered.implode()))
    joined = ours_covered.join(sql, on=KEY, how="full", nulls_equal=True, suffix="_sql", coalesce=True)

    def differs(a: str, b: str) -> pl.Expr:
        x, y = pl.col(a), pl.col(b)
        both = x.is_not_null() & y.is_not_null()
        return (x.is_null() != y.is_null()) | (
            both & ((x - y).abs() > 1e-9 * pl.max_horizontal(x.abs(), y.abs(), pl.lit(1.0)))
        )

    bad = joined.filter(differs("num", "num_sql") | differs("den", "den_sql") | differs("value", "value_sql"))
    skipped = sorted(set(ours["metric"].unique()) - set(covered))
    print(f"compared {ours_covered.height} rows of {covered.len()} metrics; "
          f"not in the SQL: {', '.join(skipped)}")
    if bad.height:
        with pl.Config(tbl_rows=40, tbl_width_chars=220, tbl_cols=20):
            print(f"{bad.height} rows differ:")
            print(bad.sort(KEY))
        return 1
    print("every compared number agrees")
    return 0


if __name__ == "__main__":
    sys.exit(main())
