"""The floor: scan the columns the pipeline needs from every input once.

Usage: python3 bench/floor.py duckdb|polars DATA_DIR

Each needed column is reduced to one number (count, sum, min or
n_unique) so that every value is decoded but nothing else is computed. No
real job can read its inputs faster than this on the same machine.
"""

import sys

# source file → the columns bench/pipeline.yaml reads from it
NEEDED = {
    "accounts.csv": ["account_id", "signup_date", "churn_date", "plan"],
    "users.csv": ["user_id", "account_id", "created_at"],
    "training.parquet": ["account_id", "user_id", "course_id", "enrolled_at", "completed_at", "score"],
    "events/*.parquet": ["account_id", "user_id", "event_time", "event_name"],
    "revenue.parquet": ["account_id", "month", "mrr"],
    "nps_responses.csv": ["account_id", "responded_at", "score"],
    "csat_responses.csv": ["account_id", "responded_at", "score"],
    "tickets.parquet": ["account_id", "created_at", "product_area"],
    "cancellations.parquet": ["account_id", "requested_at", "outcome"],
    "touchpoints.parquet": ["account_id", "contacted_at"],
    "referrals.parquet": ["account_id", "referred_at"],
}


def main() -> None:
    engine, data = sys.argv[1], sys.argv[2]
    if engine == "duckdb":
        import duckdb

        con = duckdb.connect()
        for name, columns in NEEDED.items():
            source = f"read_csv('{data}/{name}')" if name.endswith(".csv") else f"'{data}/{name}'"
            exprs = ", ".join(f"count(DISTINCT {c})" if c in ("event_name", "course_id", "plan", "product_area", "outcome")
                              else f"max({c})::VARCHAR" for c in columns)
            con.sql(f"SELECT {exprs} FROM {source}").fetchall()
    else:
        import polars as pl

        plans = []
        for name, columns in NEEDED.items():
            path = f"{data}/{name}"
            frame = pl.scan_csv(path, try_parse_dates=True) if name.endswith(".csv") else pl.scan_parquet(path)
            plans.append(frame.select(pl.col(c).max() if c not in ("event_name", "course_id", "plan", "product_area", "outcome")
                                      else pl.col(c).n_unique() for c in columns))
        pl.collect_all(plans, engine="streaming")


if __name__ == "__main__":
    main()
